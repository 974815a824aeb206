package deploy

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// overlays are the kustomizations docs/kubernetes.md tells people to
// render; gatewayOverlays are those that run the gateway.
var (
	overlays        = []string{"sidecar", "forward-auth", "redis"}
	gatewayOverlays = []string{"sidecar", "forward-auth"}
)

// rendered is one overlay's output, every object decoded strictly.
type rendered struct {
	overlay         string
	namespaces      []*corev1.Namespace
	configMaps      []*corev1.ConfigMap
	secrets         []*corev1.Secret
	services        []*corev1.Service
	deployments     []*appsv1.Deployment
	pdbs            []*policyv1.PodDisruptionBudget
	networkPolicies []*networkingv1.NetworkPolicy
	ingresses       []*networkingv1.Ingress
	middlewares     []*traefikMiddleware
}

var renders sync.Map // overlay name -> func() (*rendered, error)

// render builds deploy/k8s/overlays/<overlay> with the kustomize API (as
// `kustomize build` does) and decodes every object; once per test run.
func render(t *testing.T, overlay string) *rendered {
	t.Helper()
	f, _ := renders.LoadOrStore(overlay, sync.OnceValues(func() (*rendered, error) { return renderOverlay(overlay) }))
	r, err := f.(func() (*rendered, error))()
	if err != nil {
		t.Fatalf("overlay %s: %v", overlay, err)
	}
	return r
}

func renderOverlay(overlay string) (*rendered, error) {
	dir := filepath.Join("k8s", "overlays", overlay)
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	out := &rendered{overlay: overlay}
	var errs []string
	for _, res := range resMap.Resources() {
		data, err := res.MarshalJSON()
		if err != nil {
			return nil, err
		}
		gvk := res.GetGvk()
		key := gvk.ApiVersion() + "/" + gvk.Kind
		if err := out.add(key, data); err != nil {
			errs = append(errs, fmt.Sprintf("%s %s: %v", key, res.GetName(), err))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("objects that do not decode strictly:\n  %s", strings.Join(errs, "\n  "))
	}
	return out, nil
}

// add decodes one object by its apiVersion/kind into its Go type. A kind
// without a decoder here is an error, so nothing is left unchecked.
func (r *rendered) add(key string, data []byte) error {
	switch key {
	case "v1/Namespace":
		return decodeInto(data, &r.namespaces)
	case "v1/ConfigMap":
		return decodeInto(data, &r.configMaps)
	case "v1/Secret":
		return decodeInto(data, &r.secrets)
	case "v1/Service":
		return decodeInto(data, &r.services)
	case "apps/v1/Deployment":
		return decodeInto(data, &r.deployments)
	case "policy/v1/PodDisruptionBudget":
		return decodeInto(data, &r.pdbs)
	case "networking.k8s.io/v1/NetworkPolicy":
		return decodeInto(data, &r.networkPolicies)
	case "networking.k8s.io/v1/Ingress":
		return decodeInto(data, &r.ingresses)
	case "traefik.io/v1alpha1/Middleware":
		return decodeInto(data, &r.middlewares)
	}
	return fmt.Errorf("no strict decoder for this kind in render_test.go")
}

// decodeInto decodes data strictly into a new T and appends it to list.
func decodeInto[T any](data []byte, list *[]*T) error {
	v := new(T)
	if err := decodeStrict(data, v); err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

// decodeStrict is the API server's strict decoding (sigs.k8s.io/json, as
// used by k8s.io/apimachinery): an unknown field, a field whose case
// differs from the schema's, or a field given twice is an error; so is a
// value of the wrong type.
func decodeStrict(data []byte, v any) error {
	strict, err := kjson.UnmarshalStrict(data, v, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	if len(strict) > 0 {
		msgs := make([]string, len(strict))
		for i, e := range strict {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	return nil
}

// gatewayContainerName is the name of the gateway's container in every pod.
const gatewayContainerName = "gatehouse"

// gatewayPod is a Deployment running the gateway, with its container.
type gatewayPod struct {
	dep       *appsv1.Deployment
	container *corev1.Container
}

// gatewayPods lists the Deployments with a gateway container.
func (r *rendered) gatewayPods() []gatewayPod {
	var out []gatewayPod
	for _, d := range r.deployments {
		for i := range d.Spec.Template.Spec.Containers {
			if c := &d.Spec.Template.Spec.Containers[i]; c.Name == gatewayContainerName {
				out = append(out, gatewayPod{d, c})
			}
		}
	}
	return out
}

// secret returns the Secret a volume names; kustomize's generators add a
// hash suffix to the name, and rewrite the references to match.
func (r *rendered) secret(name string) *corev1.Secret {
	for _, s := range r.secrets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func (r *rendered) configMap(name string) *corev1.ConfigMap {
	for _, c := range r.configMaps {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// containerPort resolves a Service's targetPort (a name or a number)
// against a pod's containers.
func containerPort(spec *corev1.PodSpec, target intstr.IntOrString) (*corev1.Container, int32, bool) {
	for i := range spec.Containers {
		c := &spec.Containers[i]
		for _, p := range c.Ports {
			if (target.Type == intstr.String && p.Name == target.StrVal) ||
				(target.Type == intstr.Int && p.ContainerPort == target.IntVal) {
				return c, p.ContainerPort, true
			}
		}
	}
	return nil, 0, false
}

// allContainers lists a pod's init and regular containers.
func allContainers(spec *corev1.PodSpec) []*corev1.Container {
	var out []*corev1.Container
	for i := range spec.InitContainers {
		out = append(out, &spec.InitContainers[i])
	}
	for i := range spec.Containers {
		out = append(out, &spec.Containers[i])
	}
	return out
}

// TestOverlaysRender renders every overlay and decodes every object
// strictly (render fails the test on the first problem).
func TestOverlaysRender(t *testing.T) {
	for _, o := range overlays {
		t.Run(o, func(t *testing.T) {
			r := render(t, o)
			if len(r.deployments) == 0 {
				t.Errorf("overlay %s renders no Deployment", o)
			}
		})
	}
}

// TestStrictDecoding is a control: decodeStrict must refuse what the API
// server's strict field validation refuses, or the render tests'
// passes prove nothing.
func TestStrictDecoding(t *testing.T) {
	for _, tc := range []struct{ name, json string }{
		{"unknown field", `{"spec":{"template":{"spec":{"containers":[{"name":"a","securityContext":{"readOnlyRootFileSystem":true}}]}}}}`},
		{"field in the wrong case", `{"spec":{"Replicas":2}}`},
		{"duplicate field", `{"spec":{"replicas":2,"replicas":3}}`},
		{"wrong type", `{"spec":{"replicas":"2"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := decodeStrict([]byte(tc.json), new(appsv1.Deployment)); err == nil {
				t.Errorf("decodeStrict accepts %s", tc.json)
			}
		})
	}
	if err := decodeStrict([]byte(`{"spec":{"replicas":2}}`), new(appsv1.Deployment)); err != nil {
		t.Errorf("decodeStrict refuses a valid Deployment: %v", err)
	}
}
