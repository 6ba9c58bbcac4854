// Package render is gpdoc's render stage: it turns a manifest line's
// "consultation" object into the consultation summary PDF that GP Connect
// carries (the Consultation Report, docs/spec.md#consultation-report-layout) and puts it first
// among the message's attachments.
//
// [Parse] decodes and checks a [Consultation], reporting every problem with
// its JSON path ("consultation.patient.family"); [Stage.Render] lays the
// report out with package layout and writes it with pdfcpu; [Stage] is the
// pipeline stage that does both for a [pipeline.Document].
//
// The report: a blue "CONSULTATION REPORT" band with "- Confidential:
// personal data -", the version, the number of related documents and "Page
// x of y" on every page; the patient ("SURNAME, Forename (Title)", DOB as
// DD-Mmm-YYYY, NHS number as ### ### ####, Home/Registered Address and
// telephones); the consulting organisation and clinician; the consultation
// date, "Date consultation letter sent" and the receiving practice;
// CLINICAL NOTES with the fixed summary reason, each section as "title:
// notes" (title in bold), the coded items table (an addition) and the
// follow-up actions; "Page x of y" in every footer. A confidential
// consultation shows "Confidential item" for the clinician and organisation
// details and "The details of this consultation have been set as
// confidential" instead of the notes, coded items and actions.
package render
