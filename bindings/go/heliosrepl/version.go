package heliosrepl

// The pkg-config line lives here only: cgo flags apply to the whole package.

/*
#cgo pkg-config: heliosrepl
#include <heliosrepl/heliosrepl.h>
*/
import "C"

import (
	"fmt"
	"sync"
)

// The library version this package was written for (hr_check_version).
const (
	BindingMajor = 1
	BindingMinor = 0
)

// Version returns the run-time library version as 0xMMmmpp (hr_version).
func Version() uint32 {
	return uint32(C.hr_version())
}

// VersionString returns the run-time library version, e.g. "1.0.0".
func VersionString() string {
	return C.GoString(C.hr_version_string())
}

// RequireVersion returns nil when the loaded library can serve a caller
// written for version major.minor, or an *Error with code EVERSION.
func RequireVersion(major, minor int) error {
	rc := C.hr_check_version(C.int(major), C.int(minor))
	if rc == C.HR_OK {
		return nil
	}
	return newError(rc, fmt.Sprintf(
		"libheliosrepl is version %s; this binding needs %d.x with x >= %d",
		VersionString(), major, minor))
}

var (
	versionOnce sync.Once
	versionErr  error
)

// CheckVersion checks once that the loaded library can serve this package
// (RequireVersion(BindingMajor, BindingMinor)) and returns the result.
// NewEnv calls it, so callers need not.
func CheckVersion() error {
	versionOnce.Do(func() {
		versionErr = RequireVersion(BindingMajor, BindingMinor)
	})
	return versionErr
}
