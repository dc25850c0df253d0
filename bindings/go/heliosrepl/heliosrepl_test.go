package heliosrepl

// Tests against the real shared library. Run from bindings/go with
// PKG_CONFIG_PATH=<build>/pkgconfig-uninstalled LD_LIBRARY_PATH=<build>/lib
// go test -count=1 ./...   (HELIOSREPL_VERSION_H may name version.h; by
// default <build>/include/heliosrepl/version.h is found by walking up.)

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// headerVersion reads major, minor, patch and the string of version.h.
func headerVersion(t *testing.T) (major, minor, patch int, text string) {
	t.Helper()
	path := os.Getenv("HELIOSREPL_VERSION_H")
	if path == "" {
		dir, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for ; ; dir = filepath.Dir(dir) {
			path = filepath.Join(dir, "build", "include", "heliosrepl", "version.h")
			if _, err := os.Stat(path); err == nil {
				break
			}
			if dir == filepath.Dir(dir) {
				t.Fatal("version.h not found: set HELIOSREPL_VERSION_H")
			}
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	define := func(name, pattern string) string {
		m := regexp.MustCompile(`#define ` + name + ` ` + pattern).FindSubmatch(data)
		if m == nil {
			t.Fatalf("%s not found in %s", name, path)
		}
		return string(m[1])
	}
	number := func(name string) int {
		n, err := strconv.Atoi(define(name, `(\d+)`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	return number("HR_VERSION_MAJOR"), number("HR_VERSION_MINOR"),
		number("HR_VERSION_PATCH"), define("HR_VERSION_STRING", `"([^"]*)"`)
}

func newEnv(t *testing.T) *Env {
	t.Helper()
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	return env
}

// asError checks that err is an *Error with the given code and returns it.
func asError(t *testing.T, err error, code Status) *Error {
	t.Helper()
	var he *Error
	if !errors.As(err, &he) {
		t.Fatalf("got %v (%T), want *Error", err, err)
	}
	if he.Code != code || he.Name != code.String() || !errors.Is(err, code) {
		t.Fatalf("got %+v, want code %s", he, code)
	}
	return he
}

// The test must exercise the shipped shared library: with only
// libheliosrepl.a in the -L directory, the linker silently takes the archive.
func TestSharedLibraryIsLoaded(t *testing.T) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skip("no /proc/self/maps:", err)
	}
	m := regexp.MustCompile(`\S*/libheliosrepl\.so\S*`).Find(maps)
	if m == nil {
		t.Fatal("libheliosrepl.so is not mapped: linked statically? (is build/lib/libheliosrepl.so built?)")
	}
	t.Logf("using %s", m)
}

func TestVersionMatchesHeader(t *testing.T) {
	major, minor, patch, text := headerVersion(t)
	if got, want := Version(), uint32(major<<16|minor<<8|patch); got != want {
		t.Errorf("Version() = %#x, header %#x", got, want)
	}
	if got := VersionString(); got != text || text != fmt.Sprintf("%d.%d.%d", major, minor, patch) {
		t.Errorf("VersionString() = %q, header %q", got, text)
	}
}

func TestCheckVersion(t *testing.T) {
	if BindingMajor != 1 || BindingMinor != 0 {
		t.Fatalf("binding written for %d.%d, want 1.0", BindingMajor, BindingMinor)
	}
	if err := CheckVersion(); err != nil {
		t.Fatal(err)
	}
	major, minor, _, _ := headerVersion(t)
	for _, v := range [][2]int{{major + 1, 0}, {major, minor + 1}, {major - 1, 0}} {
		err := RequireVersion(v[0], v[1])
		he := asError(t, err, EVERSION)
		if he.Name != "HR_EVERSION" || !regexp.MustCompile(regexp.QuoteMeta(VersionString())).MatchString(he.Message) {
			t.Errorf("RequireVersion(%d, %d) = %v", v[0], v[1], err)
		}
	}
}

var allStatuses = []struct {
	code  Status
	name  string
	fatal bool
}{
	{OK, "HR_OK", false}, {EINVAL, "HR_EINVAL", true},
	{ENOMEM, "HR_ENOMEM", false}, {EIO, "HR_EIO", false},
	{EPROTO, "HR_EPROTO", true}, {ECORRUPT, "HR_ECORRUPT", true},
	{EAUTH, "HR_EAUTH", true}, {EAGAIN, "HR_EAGAIN", false},
	{ESTATE, "HR_ESTATE", true}, {ECONFLICT, "HR_ECONFLICT", false},
	{ESCHEMA, "HR_ESCHEMA", true}, {ETIMEDOUT, "HR_ETIMEDOUT", false},
	{EUNSUPPORTED, "HR_EUNSUPPORTED", true}, {ENOTFOUND, "HR_ENOTFOUND", true},
	{ECLOSED, "HR_ECLOSED", false}, {EVERSION, "HR_EVERSION", true},
	{ELIMIT, "HR_ELIMIT", true}, {EINTERNAL, "HR_EINTERNAL", true},
}

func TestStatuses(t *testing.T) {
	for i, s := range allStatuses {
		if int(s.code) != -i {
			t.Errorf("%s = %d, want %d", s.name, s.code, -i)
		}
		if got := s.code.String(); got != s.name {
			t.Errorf("Status(%d).String() = %q, want %q", s.code, got, s.name)
		}
		if got := IsFatal(s.code); got != s.fatal {
			t.Errorf("IsFatal(%s) = %v", s.name, got)
		}
		if StrError(s.code) == "" || s.code.Error() != StrError(s.code) {
			t.Errorf("StrError(%s) = %q", s.name, StrError(s.code))
		}
	}
	if StatusMin != allStatuses[len(allStatuses)-1].code {
		t.Errorf("StatusMin = %d: update the Status constants", StatusMin)
	}
	for _, unknown := range []Status{StatusMin - 1, 1, -1000} {
		if unknown.String() != "HR_UNKNOWN" || StrError(unknown) != "unknown error" || !IsFatal(unknown) {
			t.Errorf("unknown code %d: %s / %s", unknown, unknown, StrError(unknown))
		}
	}
	if StrError(EINVAL) != "invalid argument" || StrError(OK) != "success" {
		t.Errorf("StrError: %q, %q", StrError(EINVAL), StrError(OK))
	}
}

func TestBadLogLevelMapsToEINVAL(t *testing.T) {
	env := newEnv(t)
	for _, level := range []LogLevel{0, 6, 9, -1} {
		err := env.SetLog(func(LogLevel, string) {}, level)
		he := asError(t, err, EINVAL)
		want := fmt.Sprintf("log level %d out of range 1..5", level)
		if he.Message != want || env.Errmsg() != want || !he.Fatal() {
			t.Errorf("level %d: %+v, errmsg %q", level, he, env.Errmsg())
		}
		if err.Error() != "HR_EINVAL: "+want {
			t.Errorf("Error() = %q", err.Error())
		}
	}
	if err := env.SetLog(nil, LogError); err != nil || env.Errmsg() != "" {
		t.Errorf("SetLog(nil) = %v, errmsg %q after success", err, env.Errmsg())
	}
}

func TestLogCallback(t *testing.T) {
	env := newEnv(t)
	for level := LogError; level <= LogTrace; level++ {
		if err := env.SetLog(func(LogLevel, string) {}, level); err != nil {
			t.Fatal(err)
		}
	}
	type entry struct {
		level LogLevel
		msg   string
	}
	var got []entry
	if err := env.SetLog(func(l LogLevel, m string) { got = append(got, entry{l, m}) }, LogDebug); err != nil {
		t.Fatal(err)
	}
	env.logThroughTrampoline(LogWarn, "café")
	if len(got) != 1 || got[0] != (entry{LogWarn, "café"}) {
		t.Errorf("log sink got %v", got)
	}
}

func TestHalfAClockIsRejected(t *testing.T) {
	env := newEnv(t)
	err := env.SetClock(func() uint64 { return 1 }, nil)
	he := asError(t, err, EINVAL)
	if !regexp.MustCompile("both monotonic_ns and wall_ns").MatchString(he.Message) {
		t.Errorf("message %q", he.Message)
	}
}

func TestSystemClockByDefault(t *testing.T) {
	env := newEnv(t)
	before := uint64(time.Now().UnixNano())
	wall := env.WallNs()
	after := uint64(time.Now().UnixNano())
	if wall < before || wall > after {
		t.Errorf("WallNs() = %d, not within [%d, %d]", wall, before, after)
	}
	if a, b := env.MonotonicNs(), env.MonotonicNs(); b < a {
		t.Errorf("monotonic went backwards: %d then %d", a, b)
	}
}

func TestInjectedClock(t *testing.T) {
	env := newEnv(t)
	tick, wallCalls := uint64(100), 0
	err := env.SetClock(
		func() uint64 { tick++; return tick },
		func() uint64 { wallCalls++; return 1<<64 - 1 })
	if err != nil {
		t.Fatal(err)
	}
	if a, b := env.MonotonicNs(), env.MonotonicNs(); a != 101 || b != 102 {
		t.Errorf("MonotonicNs() = %d, %d; want 101, 102", a, b)
	}
	if w := env.WallNs(); w != 1<<64-1 || wallCalls != 1 {
		t.Errorf("WallNs() = %d after %d calls", w, wallCalls)
	}
	if err := env.SetClock(nil, nil); err != nil {
		t.Fatal(err)
	}
	if w := env.WallNs(); w < 1_600_000_000*1_000_000_000 || w == 1<<64-1 {
		t.Errorf("system clock not restored: WallNs() = %d", w)
	}
}

func TestClockPanicIsReraised(t *testing.T) {
	env := newEnv(t)
	if err := env.SetClock(func() uint64 { panic("clock broke") }, func() uint64 { return 7 }); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != "clock broke" {
				t.Errorf("recovered %v, want the callback's panic", r)
			}
		}()
		env.MonotonicNs()
	}()
	if w := env.WallNs(); w != 7 {
		t.Errorf("WallNs() = %d after a recovered panic", w)
	}
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	env.Close()
	env.Close()
	if !env.Closed() {
		t.Error("Closed() = false after Close")
	}
	asError(t, env.SetClock(nil, nil), ECLOSED)
	asError(t, env.SetLog(nil, LogInfo), ECLOSED)
	defer func() {
		if recover() == nil {
			t.Error("MonotonicNs after Close did not panic")
		}
	}()
	env.MonotonicNs()
}

func TestManyEnvsAreReleased(t *testing.T) {
	for i := 0; i < 1000; i++ {
		env, err := NewEnv()
		if err != nil {
			t.Fatal(err)
		}
		if err := env.SetClock(func() uint64 { return 1 }, func() uint64 { return 2 }); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			env.Close() // the others are left to the finalizer
		}
	}
	runtime.GC() // run the finalizers of the unclosed ones
	runtime.GC()
}
