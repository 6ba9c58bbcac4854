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
// Work one stage did on an attachment's bytes that a later one can reuse
// (the validate stage's parsed PDF, which sanitise reuses rather than parse
// the same bytes again) is kept on the Document with [Document.Remember]
// and found with [Document.Recall].
//
// # Phases and problems
//
// Validation never stops at the first problem. Stages record problems on
// the Document ([Document.AddProblem]) or return a *conneqt.ValidationError.
// The Runner runs a pipeline in two phases ([Pipeline.Phases]): the check
// phase, the leading stages that implement [ProblemCollector] (in gpdoc's
// default pipeline every stage that can find a problem: validate, sanitise,
// render, downsample and the size gate), runs on every document and reports every problem at
// once; a document with problems stops at its end with a
// *conneqt.ValidationError listing them. The rest runs only on a document
// without problems. Anything else a stage returns (I/O failure,
// cancellation) is fatal for that document and is wrapped in a
// [*StageError].
//
// # Panics
//
// The Runner is the one place panics are recovered ([Recover]). A panic
// keeps its value and stack ([PanicError]) and is logged at error level. One
// that started in a decoder of untrusted bytes ([DefaultDecoders]) in an
// attachment stage is a problem with that attachment's file; any other is a
// bug, reported as a *StageError ("internal error in stage X: ...; please
// report it"). No error text holds the stack.
//
// # Files
//
// An attachment with a Path and no Data is read by the Runner before the
// first stage, and only if the path resolves, after following
// symlinks, inside one of [Document.Folders] (opened through an [os.Root]),
// names a regular file (checked on the descriptor of a non-blocking open),
// and is no larger than the cap for its type and route
// (conneqt.Route.MaxSourceBytes, or [Runner.MaxFileBytes]). The sizes of a
// document's files are reserved from [Runner.MaxBytesInFlight] before any
// is read, and each file is read up to that size only. Anything else is a
// problem at attachments[i].path ([ErrOutsideFolders], [ErrNotRegular],
// [ErrFileTooLarge], [ErrFileChanged]).
package pipeline
