// Package validate checks conneQt messages against every rule of their
// route, as strictly as the service does, and reports every problem at once
// with the API's JSON path (attachments[2].fileName, subject.id.value).
//
// There are two entry points:
//
//   - [CheckMessage] is a pure function over a final wire message: the
//     envelope and every attachment's bytes. It does not depend on the
//     pipeline runner or on stage order, and is deterministic given
//     Options.Now, so the conneQt simulator uses it to judge requests.
//   - [Stage] ("validate") is the pipeline stage: a MessageStage for the
//     envelope and an AttachmentStage for each attachment, and a
//     ProblemCollector, so that one report lists everything.
//
// Options.Sanitise and Options.Downsample tell the checks which later
// stages will run: what those stages will fix (a reserved character in a
// file name, a missing extension, a UTF-16 text file, an oversize photo)
// is then left to them instead of reported, while anything they cannot fix
// is always a problem. With both false (the simulator's setting) the
// message must already be exactly what the service accepts.
//
// Problem values never hold a full NHS number (it is masked, 943***5919)
// nor any attachment content.
package validate
