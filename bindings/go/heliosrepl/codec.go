package heliosrepl

/*
#include <stdlib.h>
#include <string.h>
#include <heliosrepl/heliosrepl.h>
*/
import "C"

import (
	"runtime"
	"strconv"
	"strings"
	"unsafe"
)

// CodecParam is a codec parameter (enum hr_codec_param); see ParamBounds.
type CodecParam int32

// The codec parameters; values pinned.
const (
	ParamLevel             CodecParam = C.HR_CODEC_PARAM_LEVEL              // zstd level, 1..19, default 3
	ParamSampleRows        CodecParam = C.HR_CODEC_PARAM_SAMPLE_ROWS        // rows sampled to choose an encoding
	ParamDictionary        CodecParam = C.HR_CODEC_PARAM_DICTIONARY         // train zstd dictionaries: 0/1
	ParamDictMinBytes      CodecParam = C.HR_CODEC_PARAM_DICT_MIN_BYTES     // bytes collected before training
	ParamCompressor        CodecParam = C.HR_CODEC_PARAM_COMPRESSOR         // CompressorZstd or CompressorSnappy
	ParamMaxRows           CodecParam = C.HR_CODEC_PARAM_MAX_ROWS           // decoding: refuse frames of more rows
	ParamMaxBytes          CodecParam = C.HR_CODEC_PARAM_MAX_BYTES          // decoding: refuse more value bytes
	ParamRequireEncryption CodecParam = C.HR_CODEC_PARAM_REQUIRE_ENCRYPTION // decoding: refuse plaintext: 0/1
)

// Values of ParamCompressor.
const (
	CompressorZstd   = C.HR_CODEC_ZSTD
	CompressorSnappy = C.HR_CODEC_SNAPPY
)

// KeySize is the size of an AES-256 key in bytes.
const KeySize = C.HR_CODEC_KEY_SIZE

// Frame header flags.
const (
	FrameFlagEncrypted = C.HR_FRAME_FLAG_ENCRYPTED
	FrameFlagHasDict   = C.HR_FRAME_FLAG_HAS_DICT // carries a zstd dictionary inline
)

// FrameInfo is what a frame's header says (hr_frame_info).
type FrameInfo struct {
	FormatVersion     uint
	Flags             uint   // FrameFlag*
	SchemaFingerprint uint64 // same schema <=> same fingerprint
	Rows              uint32
	Columns           uint32
	KeyID             uint32 // 0 when not encrypted
}

// Encrypted reports whether the frame is sealed.
func (f FrameInfo) Encrypted() bool { return f.Flags&FrameFlagEncrypted != 0 }

// HasDict reports whether the frame carries a zstd dictionary inline.
func (f FrameInfo) HasDict() bool { return f.Flags&FrameFlagHasDict != 0 }

// cBytes copies b to new C memory (at least one byte, so never NULL); the
// caller frees it with C.free.
func cBytes(b []byte) unsafe.Pointer {
	p := C.malloc(C.size_t(len(b) + 1))
	copy(unsafe.Slice((*byte)(p), len(b)), b)
	return p
}

// cTenant copies a tenant id to C memory; EINVAL if it holds a NUL byte.
func cTenant(tenant string) (*C.char, error) {
	if strings.IndexByte(tenant, 0) >= 0 {
		return nil, errInvalid("tenant id contains a NUL byte")
	}
	return C.CString(tenant), nil
}

var inspectErrors = map[Status]string{
	ECORRUPT: "not a valid frame (truncated, damaged or checksum mismatch)",
	EVERSION: "frame format version newer than this library reads",
}

// FrameInspect parses and checks a frame's header and checksum without
// decoding it. ECORRUPT (damaged, truncated, not a frame), EVERSION (newer
// format version). Safe for concurrent use.
func FrameInspect(frame []byte) (FrameInfo, error) {
	p := cBytes(frame)
	defer C.free(p)
	info := C.hr_frame_info{size: C.size_t(unsafe.Sizeof(C.hr_frame_info{}))}
	rc := C.hr_frame_inspect((*C.uint8_t)(p), C.size_t(len(frame)), &info)
	if rc != C.HR_OK {
		// hr_frame_inspect has no message channel: say what the code means.
		return FrameInfo{}, newError(rc, "frame inspect: "+inspectErrors[Status(rc)])
	}
	return FrameInfo{
		FormatVersion:     uint(info.format_version),
		Flags:             uint(info.flags),
		SchemaFingerprint: uint64(info.schema_fingerprint),
		Rows:              uint32(info.rows),
		Columns:           uint32(info.columns),
		KeyID:             uint32(info.key_id),
	}, nil
}

// ParamBounds returns the inclusive range of a parameter; EINVAL for an
// unknown one.
func ParamBounds(p CodecParam) (min, max int64, err error) {
	var lo, hi C.int64_t
	if rc := C.hr_codec_param_bounds(C.hr_codec_param(p), &lo, &hi); rc != C.HR_OK {
		return 0, 0, newError(rc, "unknown codec parameter "+strconv.FormatInt(int64(p), 10))
	}
	return int64(lo), int64(hi), nil
}

// Codec is an hr_codec: it encodes a Batch into a frame and back. A frame
// is self-describing, checksummed, bound to a tenant id and optionally
// sealed with AES-256-GCM. A codec keeps state across calls (trained zstd
// dictionaries, keys): use one per stream direction and reuse it.
//
// A Codec holds a reference to its Env; the batches it decodes are created
// from the same Env. Close frees it and wipes its keys (the finalizer does
// too, but do not rely on it); methods return ECLOSED after Close. One
// goroutine at a time per Codec.
type Codec struct {
	_   noCopy
	ptr *C.hr_codec
	env *Env
}

// NewCodec creates a codec with default parameters and no keys.
func NewCodec(env *Env) (*Codec, error) {
	if env == nil {
		return nil, errInvalid("nil Env")
	}
	cenv, err := env.adopt(false)
	if err != nil {
		return nil, err
	}
	var ptr *C.hr_codec
	if rc := C.hr_codec_new(cenv, &ptr); rc != C.HR_OK {
		env.disown()
		return nil, newError(rc, "hr_codec_new failed")
	}
	c := &Codec{ptr: ptr, env: env}
	runtime.SetFinalizer(c, (*Codec).Close)
	return c, nil
}

// Close frees the codec (hr_codec_free), wiping its keys. Closing twice is
// a no-op.
func (c *Codec) Close() {
	if c.ptr == nil {
		return
	}
	C.hr_codec_free(c.ptr)
	c.ptr = nil
	runtime.SetFinalizer(c, nil)
	c.env.disown()
}

// Closed reports whether Close was called.
func (c *Codec) Closed() bool { return c.ptr == nil }

// Env returns the Env the codec was created from.
func (c *Codec) Env() *Env { return c.env }

func errCodecClosed() error { return newError(C.HR_ECLOSED, "the Codec is closed") }

func (c *Codec) check(rc C.int) error {
	c.env.cb.repanic()
	if rc == C.HR_OK {
		return nil
	}
	msg := C.GoString(C.hr_codec_errmsg(c.ptr))
	runtime.KeepAlive(c)
	return newError(rc, msg)
}

// Errmsg returns the message of the last failed call on c, or "". The
// library does not clear it on success: read it right after a failure.
// It panics after Close.
func (c *Codec) Errmsg() string {
	if c.ptr == nil {
		panic("heliosrepl: Codec used after Close")
	}
	msg := C.GoString(C.hr_codec_errmsg(c.ptr))
	runtime.KeepAlive(c)
	return msg
}

// SetParam sets a parameter; EINVAL outside ParamBounds.
func (c *Codec) SetParam(p CodecParam, value int64) error {
	if c.ptr == nil {
		return errCodecClosed()
	}
	return c.check(C.hr_codec_set_param(c.ptr, C.hr_codec_param(p), C.int64_t(value)))
}

// Param returns the current value of a parameter.
func (c *Codec) Param(p CodecParam) (int64, error) {
	if c.ptr == nil {
		return 0, errCodecClosed()
	}
	var v C.int64_t
	rc := C.hr_codec_get_param(c.ptr, C.hr_codec_param(p), &v)
	runtime.KeepAlive(c)
	if rc != C.HR_OK {
		// hr_codec_get_param sets no message.
		return 0, newError(rc, "unknown codec parameter "+strconv.FormatInt(int64(p), 10))
	}
	return int64(v), nil
}

// AddKey loads a KeySize-byte AES-256 key under keyID (1..2^32-1); the key
// is copied. Several keys may be loaded (rotation). EINVAL for id 0, a key
// of another size, or an id already loaded with another key.
func (c *Codec) AddKey(keyID uint32, key []byte) error {
	if c.ptr == nil {
		return errCodecClosed()
	}
	if len(key) != KeySize {
		return errInvalid("a key is %d bytes, not %d", KeySize, len(key))
	}
	p := cBytes(key)
	defer func() {
		C.memset(p, 0, KeySize) // wipe our copy of the key
		C.free(p)
	}()
	return c.check(C.hr_codec_add_key(c.ptr, C.uint32_t(keyID), (*C.uint8_t)(p)))
}

// RemoveKey forgets (and wipes) a key; ENOTFOUND when it is not loaded.
func (c *Codec) RemoveKey(keyID uint32) error {
	if c.ptr == nil {
		return errCodecClosed()
	}
	return c.check(C.hr_codec_remove_key(c.ptr, C.uint32_t(keyID)))
}

// SetEncryptKey seals the frames encoded from now on with a loaded key; 0
// encodes plaintext. ENOTFOUND when the key is not loaded.
func (c *Codec) SetEncryptKey(keyID uint32) error {
	if c.ptr == nil {
		return errCodecClosed()
	}
	return c.check(C.hr_codec_set_encrypt_key(c.ptr, C.uint32_t(keyID)))
}

// Encode encodes every row of b into a frame for tenant (1..255 bytes, no
// NUL) and returns a copy of it.
func (c *Codec) Encode(b *Batch, tenant string) ([]byte, error) {
	if c.ptr == nil {
		return nil, errCodecClosed()
	}
	if b == nil {
		return nil, errInvalid("nil Batch")
	}
	if b.ptr == nil {
		return nil, errBatchClosed()
	}
	ct, err := cTenant(tenant)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(ct))
	var frame *C.uint8_t
	var n C.size_t
	if err := c.check(C.hr_codec_encode(c.ptr, b.ptr, ct, &frame, &n)); err != nil {
		return nil, err
	}
	out := goBytes(unsafe.Pointer(frame), n) // the frame is codec memory
	runtime.KeepAlive(c)
	runtime.KeepAlive(b)
	return out, nil
}

// Decode decodes a frame of tenant into a new Batch.
func (c *Codec) Decode(frame []byte, tenant string) (*Batch, error) {
	if c.ptr == nil {
		return nil, errCodecClosed()
	}
	out, err := newBatch(c.env, true)
	if err != nil {
		return nil, err
	}
	if err := c.DecodeInto(frame, tenant, out); err != nil {
		out.Close()
		return nil, err
	}
	return out, nil
}

// DecodeInto decodes a frame of tenant into out, which is cleared first (and
// left empty on error), reusing its memory.
func (c *Codec) DecodeInto(frame []byte, tenant string, out *Batch) error {
	if c.ptr == nil {
		return errCodecClosed()
	}
	if out == nil {
		return errInvalid("nil Batch")
	}
	if out.ptr == nil {
		return errBatchClosed()
	}
	ct, err := cTenant(tenant)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(ct))
	p := cBytes(frame)
	defer C.free(p)
	out.cols, out.partial = nil, false // the decoder replaces the schema
	rc := C.hr_codec_decode(c.ptr, (*C.uint8_t)(p), C.size_t(len(frame)), ct, out.ptr)
	runtime.KeepAlive(out)
	return c.check(rc)
}

// ExportDicts returns the dictionaries the codec knows as one blob, to
// persist next to a checkpoint.
func (c *Codec) ExportDicts() ([]byte, error) {
	if c.ptr == nil {
		return nil, errCodecClosed()
	}
	var blob *C.uint8_t
	var n C.size_t
	if err := c.check(C.hr_codec_export_dicts(c.ptr, &blob, &n)); err != nil {
		return nil, err
	}
	out := goBytes(unsafe.Pointer(blob), n) // the blob is codec memory
	runtime.KeepAlive(c)
	return out, nil
}

// ImportDicts learns the dictionaries of an exported blob (merged with what
// the codec knows). ECORRUPT for a damaged blob.
func (c *Codec) ImportDicts(blob []byte) error {
	if c.ptr == nil {
		return errCodecClosed()
	}
	p := cBytes(blob)
	defer C.free(p)
	return c.check(C.hr_codec_import_dicts(c.ptr, (*C.uint8_t)(p), C.size_t(len(blob))))
}
