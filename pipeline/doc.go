// Package pipeline is gpdoc's core: the message model shared by the three
// conneQt routes, the route table that holds every per-route rule, the stage
// interfaces, the problem types, and the Runner that drives documents through
// the stages concurrently.
//
// # Model
//
// A [Document] is one unit of work: one manifest line, one [Message] on one
// [Route]. The Message is the API's own wire shape (json tags are the API's
// field names); everything gpdoc learns along the way (detected MIME types,
// renames, problems, the assembled payload, the status endpoint) lives on the
// Document or on non-wire fields of [Attachment].
//
// # Stages
//
// A stage is a [MessageStage] (works on the whole message) or an
// [AttachmentStage] (works on one attachment; the Runner calls it for every
// attachment of a message concurrently). Stages are composed into a
// [Pipeline], an ordered slice that users edit with [Pipeline.InsertAfter],
// [Pipeline.InsertBefore], [Pipeline.Without] and [Pipeline.Replace].
//
// # Problems
//
// Validation never stops at the first problem. Stages record problems on the
// Document ([Document.AddProblem]) or return a [*ValidationError]; the Runner
// lets a document with problems continue only through stages that implement
// [ProblemCollector], and stops it before the first stage that does not, with
// a [*ValidationError] that lists every problem found so far. Anything else a
// stage returns (I/O failure, cancellation) is fatal for that document and is
// wrapped in a [*StageError].
package pipeline
