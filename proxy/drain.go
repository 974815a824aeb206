package proxy

// Drain marks the gateway as shutting down: /readyz answers 503 from now
// on, so a load balancer or Kubernetes stops sending new requests while
// in-flight ones finish. Requests that still arrive are served normally.
func (g *Gateway) Drain() { g.draining.Store(true) }
