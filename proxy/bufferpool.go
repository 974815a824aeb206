package proxy

import "sync"

// copyBufferSize is the buffer httputil.ReverseProxy copies bodies with
// when it has no pool (32 KiB): allocated per request, it is most of the
// garbage a proxied request makes.
const copyBufferSize = 32 << 10

// bufferPool is the httputil.BufferPool shared by every reverse proxy of
// a Gateway, so copying a body allocates nothing in steady state.
type bufferPool struct{ p sync.Pool }

// The pool holds *[copyBufferSize]byte: a pointer fits in an interface
// without allocating, where a *[]byte made in Put would be one allocation
// per request.
func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { return new([copyBufferSize]byte) }}}
}

// Get implements httputil.BufferPool.
func (bp *bufferPool) Get() []byte { return bp.p.Get().(*[copyBufferSize]byte)[:] }

// Put implements httputil.BufferPool. Only full-size buffers are kept,
// so a caller cannot shrink the pool's buffers.
func (bp *bufferPool) Put(b []byte) {
	if cap(b) < copyBufferSize {
		return
	}
	bp.p.Put((*[copyBufferSize]byte)(b[:copyBufferSize]))
}
