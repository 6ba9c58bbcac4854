// Package validate checks conneQt messages against every rule of their
// route, as strictly as the service does, and reports every problem at once
// with the API's JSON path (attachments[2].fileName, subject.id.value).
//
// There are two entry points, for two questions:
//
//   - [CheckMessage] is a pure function over a final wire message: is it
//     exactly what the service accepts? It checks the envelope and every
//     attachment's bytes, including the size gate
//     (conneqt.Route.CheckAttachmentSize). It does not depend on the
//     pipeline runner or on stage order, and is deterministic given
//     Options.Now, so the conneQt simulator uses it to judge requests.
//   - [Stage] ("validate") is the pipeline stage: is this document input
//     gpdoc can turn into such a message? It is a MessageStage for the
//     envelope and an AttachmentStage for each attachment, and a
//     ProblemCollector: it runs in the Runner's check phase with sanitise,
//     so what sanitise fixes (a reserved character in a file name, a
//     missing extension, a UTF-16 text file, a spaced NHS number, PDF
//     active content) is left to it, and size is left to the size gate
//     after downsample, as is the entropy check of a JPEG that downsample
//     decodes in full anyway (one over the limit, or stored sideways, to
//     be turned upright); anything no stage can fix is always a problem. It
//     counts the attachments the message will be sent with, including
//     those later stages add (pipeline.Document.AttachmentsToCome).
//
// Problem values never hold a full NHS number (it is masked, 943***5919)
// nor any attachment content.
package validate
