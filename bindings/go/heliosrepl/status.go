package heliosrepl

/*
#include <heliosrepl/heliosrepl.h>
*/
import "C"

// Status is a library status code (enum hr_status). Values are pinned and
// never renumbered. A Status is itself an error whose text is StrError.
type Status int

// The status codes, named as in C without the HR_ prefix.
const (
	OK           Status = C.HR_OK
	EINVAL       Status = C.HR_EINVAL
	ENOMEM       Status = C.HR_ENOMEM
	EIO          Status = C.HR_EIO
	EPROTO       Status = C.HR_EPROTO
	ECORRUPT     Status = C.HR_ECORRUPT
	EAUTH        Status = C.HR_EAUTH
	EAGAIN       Status = C.HR_EAGAIN
	ESTATE       Status = C.HR_ESTATE
	ECONFLICT    Status = C.HR_ECONFLICT
	ESCHEMA      Status = C.HR_ESCHEMA
	ETIMEDOUT    Status = C.HR_ETIMEDOUT
	EUNSUPPORTED Status = C.HR_EUNSUPPORTED
	ENOTFOUND    Status = C.HR_ENOTFOUND
	ECLOSED      Status = C.HR_ECLOSED
	EVERSION     Status = C.HR_EVERSION
	ELIMIT       Status = C.HR_ELIMIT
	EINTERNAL    Status = C.HR_EINTERNAL
)

// StatusMin is the lowest status code of the headers this package was
// built against (HR_STATUS_MIN).
const StatusMin Status = C.HR_STATUS_MIN

// String returns the C name of the code, e.g. "HR_EINVAL", or "HR_UNKNOWN".
func (s Status) String() string {
	return C.GoString(C.hr_status_name(C.int(s)))
}

// Error returns StrError(s), so a Status can be the target of errors.Is.
func (s Status) Error() string {
	return StrError(s)
}

// StrError returns a short English description of a code (hr_strerror).
func StrError(s Status) string {
	return C.GoString(C.hr_strerror(C.int(s)))
}

// IsFatal reports whether retrying the same call cannot succeed without a
// change by the host (hr_is_fatal). Unknown codes are fatal.
func IsFatal(s Status) bool {
	return C.hr_is_fatal(C.int(s)) != 0
}

// Error is a failed library call: its code, the code's C name, and the
// handle's detail message (or StrError(Code) when the library gave none).
type Error struct {
	Code    Status
	Name    string
	Message string
}

// Error formats the error as "HR_EINVAL: message".
func (e *Error) Error() string {
	return e.Name + ": " + e.Message
}

// Unwrap returns the Status, for errors.Is(err, heliosrepl.EINVAL).
func (e *Error) Unwrap() error {
	return e.Code
}

// Fatal reports IsFatal(e.Code).
func (e *Error) Fatal() bool {
	return IsFatal(e.Code)
}

// newError builds the *Error of a failed call; an empty message is
// replaced by the code's description.
func newError(rc C.int, message string) *Error {
	code := Status(rc)
	if message == "" {
		message = StrError(code)
	}
	return &Error{Code: code, Name: code.String(), Message: message}
}
