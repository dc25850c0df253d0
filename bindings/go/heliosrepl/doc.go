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
// Thread rules are the library's: one goroutine at a time per handle;
// different handles may be used concurrently.
package heliosrepl
