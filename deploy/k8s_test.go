package deploy

import (
	"fmt"
	"net"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// The gateway's ports, as the Dockerfile exposes them.
const (
	publicPort = 8080
	adminPort  = 9091
)

// gatewayYAML is the part of gateway.yaml these tests compare with the
// manifests. `gateway check` validates the whole file.
type gatewayYAML struct {
	PublicURL string `json:"public_url"`
	Server    struct {
		Listen          string `json:"listen"`
		DrainDelay      string `json:"drain_delay"`
		ShutdownTimeout string `json:"shutdown_timeout"`
	} `json:"server"`
	Admin struct {
		Listen string `json:"listen"`
	} `json:"admin"`
	Store struct {
		Type  string `json:"type"`
		Redis struct {
			Addrs []string `json:"addrs"`
		} `json:"redis"`
	} `json:"store"`
	Cookie          map[string]any `json:"cookie"`
	IdentityHeaders map[string]any `json:"identity_headers"`
}

// configFile returns the path and contents of the file the gateway
// container's --config names, from the ConfigMap mounted there.
func (gp gatewayPod) configFile(t *testing.T, r *rendered) (string, string) {
	t.Helper()
	i := slices.Index(gp.container.Args, "--config")
	if i < 0 || i+1 >= len(gp.container.Args) {
		t.Fatalf("%s: container %s has no --config FILE in its args %q", gp.dep.Name, gp.container.Name, gp.container.Args)
	}
	file := gp.container.Args[i+1]
	for _, m := range gp.container.VolumeMounts {
		if m.MountPath != path.Dir(file) {
			continue
		}
		for _, v := range gp.dep.Spec.Template.Spec.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil {
				if cm := r.configMap(v.ConfigMap.Name); cm != nil {
					if data, ok := cm.Data[path.Base(file)]; ok {
						return file, data
					}
				}
			}
		}
	}
	t.Fatalf("%s: no ConfigMap with %s is mounted at %s", gp.dep.Name, path.Base(file), path.Dir(file))
	return "", ""
}

// config parses the gateway container's configuration file.
func (gp gatewayPod) config(t *testing.T, r *rendered) gatewayYAML {
	t.Helper()
	_, data := gp.configFile(t, r)
	var c gatewayYAML
	if err := yaml.Unmarshal([]byte(data), &c); err != nil {
		t.Fatalf("gateway.yaml: %v", err)
	}
	return c
}

// forEachGatewayPod runs f for every gateway container of every overlay
// that has one, failing when an overlay has none.
func forEachGatewayPod(t *testing.T, f func(t *testing.T, r *rendered, gp gatewayPod)) {
	for _, o := range gatewayOverlays {
		r := render(t, o)
		gps := r.gatewayPods()
		if len(gps) == 0 {
			t.Errorf("overlay %s: no Deployment has a %q container", o, gatewayContainerName)
		}
		for _, gp := range gps {
			t.Run(o+"/"+gp.dep.Name, func(t *testing.T) { f(t, r, gp) })
		}
	}
}

// TestContainersRestricted checks every container of every overlay
// against the Pod Security "restricted" profile and the resource rules.
func TestContainersRestricted(t *testing.T) {
	for _, o := range overlays {
		r := render(t, o)
		for _, d := range r.deployments {
			spec := &d.Spec.Template.Spec
			for _, c := range allContainers(spec) {
				t.Run(o+"/"+d.Name+"/"+c.Name, func(t *testing.T) {
					for _, p := range restrictedProblems(spec, c) {
						t.Error(p)
					}
				})
			}
		}
	}
}

// restrictedProblems lists how a container, with its pod's defaults,
// falls short of the restricted profile, or of our resource and image
// rules.
func restrictedProblems(pod *corev1.PodSpec, c *corev1.Container) []string {
	var problems []string
	psc := pod.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	sc := c.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	if nonRoot := firstNonNil(sc.RunAsNonRoot, psc.RunAsNonRoot); nonRoot == nil || !*nonRoot {
		problems = append(problems, "runAsNonRoot is not true")
	}
	if uid := firstNonNil(sc.RunAsUser, psc.RunAsUser); uid != nil && *uid == 0 {
		problems = append(problems, "runAsUser is 0")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		problems = append(problems, "readOnlyRootFilesystem is not true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		problems = append(problems, "allowPrivilegeEscalation is not false")
	}
	if sc.Privileged != nil && *sc.Privileged {
		problems = append(problems, "privileged")
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
		problems = append(problems, "capabilities: want drop [ALL] and nothing added")
	}
	if sp := firstNonNil(sc.SeccompProfile, psc.SeccompProfile); sp == nil || sp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		problems = append(problems, "seccompProfile is not RuntimeDefault")
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		problems = append(problems, "uses a host namespace")
	}
	if a := pod.AutomountServiceAccountToken; a == nil || *a {
		problems = append(problems, "automountServiceAccountToken is not false (nothing here calls the API server)")
	}
	req, lim := c.Resources.Requests, c.Resources.Limits
	if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().IsZero() {
		problems = append(problems, "resources: want cpu and memory requests and a memory limit")
	}
	if _, tag, ok := strings.Cut(path.Base(c.Image), ":"); !ok || tag == "" || tag == "latest" {
		problems = append(problems, fmt.Sprintf("image %q: want a pinned tag, not latest", c.Image))
	}
	return problems
}

func firstNonNil[T any](vs ...*T) *T {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

// TestNamespacesEnforceRestricted: the overlays that run the gateway
// create their namespace with Pod Security "restricted" enforced, and put
// everything in it.
func TestNamespacesEnforceRestricted(t *testing.T) {
	for _, o := range gatewayOverlays {
		t.Run(o, func(t *testing.T) {
			r := render(t, o)
			if len(r.namespaces) != 1 {
				t.Fatalf("%d Namespace objects, want 1", len(r.namespaces))
			}
			ns := r.namespaces[0]
			if got := ns.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
				t.Errorf("namespace %s: pod-security.kubernetes.io/enforce = %q, want restricted", ns.Name, got)
			}
			for _, d := range r.deployments {
				if d.Namespace != ns.Name {
					t.Errorf("Deployment %s is in namespace %q, not %q", d.Name, d.Namespace, ns.Name)
				}
			}
		})
	}
}

// TestGatewayProbes: readiness on /readyz and liveness on /healthz, both
// on the admin port, which gateway.yaml must open on every interface
// (its default, 127.0.0.1, is unreachable for the kubelet).
func TestGatewayProbes(t *testing.T) {
	forEachGatewayPod(t, func(t *testing.T, r *rendered, gp gatewayPod) {
		c := gp.container
		for _, p := range []struct {
			kind  string
			probe *corev1.Probe
			path  string
		}{
			{"readinessProbe", c.ReadinessProbe, "/readyz"},
			{"livenessProbe", c.LivenessProbe, "/healthz"},
		} {
			if p.probe == nil || p.probe.HTTPGet == nil {
				t.Errorf("no %s with httpGet", p.kind)
				continue
			}
			if p.probe.HTTPGet.Path != p.path {
				t.Errorf("%s path %q, want %q", p.kind, p.probe.HTTPGet.Path, p.path)
			}
			spec := corev1.PodSpec{Containers: []corev1.Container{*c}}
			if _, port, ok := containerPort(&spec, p.probe.HTTPGet.Port); !ok || port != adminPort {
				t.Errorf("%s port %s, want the admin port %d", p.kind, p.probe.HTTPGet.Port.String(), adminPort)
			}
		}
		cfg := gp.config(t, r)
		host, port, err := net.SplitHostPort(cfg.Admin.Listen)
		if err != nil || (host != "" && host != "0.0.0.0" && host != "::") || port != fmt.Sprint(adminPort) {
			t.Errorf("gateway.yaml admin.listen %q: want \":%d\" so the kubelet's probes reach it", cfg.Admin.Listen, adminPort)
		}
		if _, port, _ := net.SplitHostPort(cfg.Server.Listen); port != fmt.Sprint(publicPort) {
			t.Errorf("gateway.yaml server.listen %q: want port %d", cfg.Server.Listen, publicPort)
		}
	})
}

// duration parses a gateway.yaml duration; empty is the default def.
func duration(t *testing.T, s string, def time.Duration) time.Duration {
	t.Helper()
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("duration %q: %v", s, err)
	}
	return d
}

// TestShutdownFitsGracePeriod: the gateway's drain and shutdown finish
// before the kubelet's SIGKILL.
func TestShutdownFitsGracePeriod(t *testing.T) {
	forEachGatewayPod(t, func(t *testing.T, r *rendered, gp gatewayPod) {
		cfg := gp.config(t, r)
		need := duration(t, cfg.Server.DrainDelay, 0) + duration(t, cfg.Server.ShutdownTimeout, 15*time.Second)
		grace := 30 * time.Second
		if g := gp.dep.Spec.Template.Spec.TerminationGracePeriodSeconds; g != nil {
			grace = time.Duration(*g) * time.Second
		}
		if need >= grace {
			t.Errorf("drain_delay + shutdown_timeout = %v, not under terminationGracePeriodSeconds (%v)", need, grace)
		}
	})
}

func matches(t *testing.T, ls *metav1.LabelSelector, set labels.Set) bool {
	t.Helper()
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		t.Fatal(err)
	}
	return sel.Matches(set)
}

// TestPodDisruptionBudgets: every Deployment with more than one replica
// keeps at least one pod through voluntary disruptions.
func TestPodDisruptionBudgets(t *testing.T) {
	for _, o := range overlays {
		r := render(t, o)
		for _, d := range r.deployments {
			if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
				continue
			}
			t.Run(o+"/"+d.Name, func(t *testing.T) {
				for _, pdb := range r.pdbs {
					if pdb.Spec.Selector != nil && matches(t, pdb.Spec.Selector, d.Spec.Template.Labels) {
						if m := pdb.Spec.MinAvailable; m != nil && m.Type == intstr.Int && m.IntVal >= 1 && m.IntVal < *d.Spec.Replicas {
							return
						}
						t.Errorf("PodDisruptionBudget %s: want minAvailable between 1 and %d", pdb.Name, *d.Spec.Replicas-1)
						return
					}
				}
				t.Errorf("%d replicas and no PodDisruptionBudget", *d.Spec.Replicas)
			})
		}
	}
}

// TestGoMemLimit: every gateway container sets GOMEMLIMIT to about three
// quarters of its memory limit, so the Go runtime gives memory back (a
// login's 64 MiB hash) before the container is OOM-killed.
func TestGoMemLimit(t *testing.T) {
	forEachGatewayPod(t, func(t *testing.T, r *rendered, gp gatewayPod) {
		limit, ok := gp.container.Resources.Limits[corev1.ResourceMemory]
		if !ok {
			t.Fatal("no memory limit")
		}
		var soft string
		for _, e := range gp.container.Env {
			if e.Name == "GOMEMLIMIT" {
				soft = e.Value
			}
		}
		n, err := goMemLimit(soft)
		if err != nil {
			t.Fatalf("GOMEMLIMIT %q: %v", soft, err)
		}
		if ratio := float64(n) / float64(limit.Value()); ratio < 0.6 || ratio > 0.9 {
			t.Errorf("GOMEMLIMIT %s is %.0f%% of limits.memory %s, want 60–90%%", soft, 100*ratio, limit.String())
		}
	})
}

// goMemLimit parses a GOMEMLIMIT value: bytes, or a number with B, KiB,
// MiB or GiB, as the Go runtime reads it.
func goMemLimit(s string) (int64, error) {
	for _, u := range []struct {
		suffix string
		mul    int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}, {"", 1}} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			var n int64
			if _, err := fmt.Sscanf(num, "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != num {
				return 0, fmt.Errorf("not a GOMEMLIMIT value")
			}
			return n * u.mul, nil
		}
	}
	return 0, fmt.Errorf("not a GOMEMLIMIT value")
}
