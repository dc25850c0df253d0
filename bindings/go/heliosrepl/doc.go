// Package heliosrepl is the Go (cgo) binding of libheliosrepl, tenant-level
// replication for PostgreSQL.
//
// The package links libheliosrepl.so.1 through pkg-config ("heliosrepl").
// It was written for library version BindingMajor.BindingMinor; NewEnv
// fails with an *Error of code EVERSION when the loaded library cannot serve
// it (see CheckVersion).
//
// Failed calls return *Error, which unwraps to its Status, so callers can
// test a code with errors.Is(err, heliosrepl.EINVAL).
//
// Handles: an Env (allocator, log sink, clock) is created first; a Batch
// (NewBatch, BatchFromRows, BatchFromColumns: a relation's columns plus rows
// of Go values) and a Codec (NewCodec: Batch <-> frame bytes, with optional
// AES-256-GCM sealing) are created from it and hold a reference to it, so
// Env.Close may come before theirs. A PgDecoder (NewPgDecoder) decodes
// PostgreSQL's logical replication stream (pgoutput) and calls back with
// PgTxn snapshots of committed transactions, whose row changes convert to
// typed batches (PgTxn.Batches, inside the callback). An Applier
// (NewApplier) applies tenants' transactions exactly once to a target
// PostgreSQL; Applier.AddBatch takes a Batch over (Batch.Moved). A
// Scheduler (NewScheduler) decides which tenant's work runs next
// (reservation, weight, limit; sans-I/O, time passed in). A Predictor
// (NewPredictor) predicts which tenants / tables will be accessed in the
// coming window from the access events the host reports. Every handle has
// Close; finalizers release forgotten ones, but close them explicitly.
//
// Memory: byte values are copied into C memory before they are passed to
// the library, and frames, blobs and values the library returns are copied
// into Go slices; the package never hands C a Go pointer to keep. C calls
// back into Go through C trampolines (trampoline.c) whose context pointer
// is a runtime/cgo.Handle.
//
// Thread rules are the library's: one goroutine at a time per handle;
// different handles may be used concurrently.
package heliosrepl
