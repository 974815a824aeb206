// Package deploy holds no code: it is the module of the deployment files'
// tests, kept apart from the gateway's module so that BuildKit, kustomize
// and the Kubernetes API types never enter the gateway binary's go.mod.
//
// The tests check ../Dockerfile and ../.dockerignore (parsed and linted
// with BuildKit's own packages, and the build stage's go build command
// run for real) and the kustomizations under k8s/ (rendered with the
// kustomize API, every object decoded strictly into k8s.io/api types, and
// the gateway's configuration validated by the gateway binary itself).
//
//	cd deploy && go test -count=1 ./...
//
// See docs/kubernetes.md.
package deploy
