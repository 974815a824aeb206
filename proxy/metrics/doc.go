// Package metrics records the gateway's Prometheus metrics (issue #8).
//
// A Metrics is built with New on a prometheus.Registerer the caller
// passes in; the package keeps no collectors of its own and registers
// nothing globally (the style guide's rule 12). Every method is safe on a nil
// *Metrics and then records nothing, so tests and library users of the
// gateway need no registry.
//
// Every metric is named gatehouse_* and carries only low-cardinality
// labels whose values come from a fixed set or from the configuration
// (policy rule names, error codes): never a user, session or token id,
// and never a raw path. docs/metrics.md lists them, with what to alert
// on; testdata/metrics.golden pins their names, types and label names.
//
// The request path stays cheap: label children whose values are known in
// advance are resolved once in New, and the rest (rule names, error
// codes) once per value and then looked up without locks or allocation.
//
// TODO(jwks): metrics for remote JWKS fetches (fetches by result, key-set
// age) come with the later issue that adds fetching remote key sets; the
// gateway only serves its own JWKS today, so there is nothing to count.
package metrics
