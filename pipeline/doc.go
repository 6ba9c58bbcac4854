// Package pipeline is gpdoc's machinery, which knows no conneQt rule of its
// own: the [Document] that carries one message through the stages, the stage
// interfaces, the [Runner] that drives documents through the stages
// concurrently, and its [Observer] events. The message model, the route
// table and the problem types it carries are package conneqt's.
//
// # Model
//
// A [Document] is one unit of work: one manifest line, one conneqt.Message on
// one conneqt.Route. The Message is the API's own wire shape (json tags are the API's
// field names); everything gpdoc learns along the way (detected MIME types,
// renames, problems, the assembled payload, the status endpoint) lives on the
// Document or on non-wire fields of conneqt.Attachment.
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
// Document ([Document.AddProblem]) or return a *conneqt.ValidationError; the Runner
// lets a document with problems continue only through stages that implement
// [ProblemCollector], and stops it before the first stage that does not, with
// a *conneqt.ValidationError that lists every problem found so far. Anything else a
// stage returns (I/O failure, cancellation) is fatal for that document and is
// wrapped in a [*StageError].
//
// # Files
//
// An attachment with a Path and no Data is read by the Runner before the
// first attachment stage, and only if the path resolves, after following
// symlinks, inside one of [Document.Folders] (opened through an [os.Root]),
// names a regular file (checked on the descriptor of a non-blocking open),
// and is no larger than the cap for its type and route
// (conneqt.Route.MaxSourceBytes, or [Runner.MaxFileBytes]). The sizes of a
// document's files are reserved from [Runner.MaxBytesInFlight] before any
// is read, and each file is read up to that size only. Anything else is a
// problem at attachments[i].path ([ErrOutsideFolders], [ErrNotRegular],
// [ErrFileTooLarge], [ErrFileChanged]).
package pipeline
