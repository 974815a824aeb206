package metrics

import (
	"sync"
	"sync/atomic"
)

// maxChildren bounds a children cache. The values it caches come from the
// configuration (rule names) or from a fixed list (error codes), so the
// bound is never reached in practice; past it, lookups still work, they
// just go through the vector every time.
const maxChildren = 1024

// children caches the series of a vector for a label whose values are
// bounded but not known in advance: policy rule names, error codes. The
// map is replaced, never modified, so a lookup takes no lock and
// allocates nothing; it is copied once per new value, a handful of times
// in a process's life.
type children[V any] struct {
	m    atomic.Pointer[map[string]V]
	mu   sync.Mutex // serialises writers
	make func(key string) V
}

// get returns the series for key, creating them on first use.
func (c *children[V]) get(key string) V {
	if m := c.m.Load(); m != nil {
		if v, ok := (*m)[key]; ok {
			return v
		}
	}
	return c.add(key)
}

func (c *children[V]) add(key string) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[string]V
	if p := c.m.Load(); p != nil {
		old = *p
	}
	if v, ok := old[key]; ok {
		return v
	}
	v := c.make(key)
	if len(old) >= maxChildren {
		return v
	}
	next := make(map[string]V, len(old)+1)
	for k, ov := range old {
		next[k] = ov
	}
	next[key] = v
	c.m.Store(&next)
	return v
}
