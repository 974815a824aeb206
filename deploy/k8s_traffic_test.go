package deploy

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestServicesTargetGateway: a Service whose pods run the gateway sends
// traffic to the gateway's public port, never past it to the app.
func TestServicesTargetGateway(t *testing.T) {
	for _, o := range gatewayOverlays {
		r := render(t, o)
		for _, svc := range r.services {
			t.Run(o+"/"+svc.Name, func(t *testing.T) {
				deps := selectedDeployments(r, labels.SelectorFromSet(svc.Spec.Selector))
				if len(deps) == 0 {
					t.Fatalf("selector %v matches no Deployment", svc.Spec.Selector)
				}
				for _, d := range deps {
					spec := &d.Spec.Template.Spec
					if !slices.ContainsFunc(spec.Containers, func(c corev1.Container) bool { return c.Name == gatewayContainerName }) {
						continue
					}
					for _, p := range svc.Spec.Ports {
						c, port, ok := containerPort(spec, p.TargetPort)
						if !ok || c.Name != gatewayContainerName || port != publicPort {
							t.Errorf("port %d targets %s: want the %s container's port %d", p.Port, p.TargetPort.String(), gatewayContainerName, publicPort)
						}
					}
				}
			})
		}
	}
}

// deploymentsBehindPort lists the Deployments of the Services that
// listen on port.
func (r *rendered) deploymentsBehindPort(port int32) []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, svc := range r.services {
		if slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == port }) {
			out = append(out, selectedDeployments(r, labels.SelectorFromSet(svc.Spec.Selector))...)
		}
	}
	return out
}

// selectedDeployments lists the Deployments whose pods sel matches.
func selectedDeployments(r *rendered, sel labels.Selector) []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, d := range r.deployments {
		if !sel.Empty() && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			out = append(out, d)
		}
	}
	return out
}

// TestSidecarAppOnLoopback: in the sidecar pod the app listens on
// 127.0.0.1 only and declares no port, the gateway proxies to it there,
// and it outlives the gateway's drain on shutdown.
func TestSidecarAppOnLoopback(t *testing.T) {
	r := render(t, "sidecar")
	gps := r.gatewayPods()
	if len(gps) != 1 {
		t.Fatalf("%d gateway pods, want 1", len(gps))
	}
	gp := gps[0]
	upstream := envValue(gp.container, "GATEHOUSE_UPSTREAM_URL")
	u, err := url.Parse(upstream)
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Errorf("GATEHOUSE_UPSTREAM_URL %q: want the app on http://127.0.0.1:PORT", upstream)
	}
	apps := 0
	for _, c := range gp.dep.Spec.Template.Spec.Containers {
		if c.Name == gatewayContainerName {
			continue
		}
		apps++
		words := slices.Clone(c.Args)
		for _, e := range c.Env {
			words = append(words, e.Value)
		}
		all := strings.Join(words, " ")
		if !strings.Contains(all, "127.0.0.1") || !strings.Contains(all, u.Port()) {
			t.Errorf("app container %s: its args and env (%s) do not bind it to 127.0.0.1:%s", c.Name, all, u.Port())
		}
		if strings.Contains(all, "0.0.0.0") || strings.Contains(all, "::") {
			t.Errorf("app container %s: its args and env (%s) mention every interface", c.Name, all)
		}
		if len(c.Ports) > 0 {
			t.Errorf("app container %s declares ports %v: only the gateway's may be reachable", c.Name, c.Ports)
		}
		cfg := gp.config(t, r)
		need := duration(t, cfg.Server.DrainDelay, 0) + duration(t, cfg.Server.ShutdownTimeout, 15*time.Second)
		if pre := c.Lifecycle; pre == nil || pre.PreStop == nil || pre.PreStop.Sleep == nil || time.Duration(pre.PreStop.Sleep.Seconds)*time.Second < need {
			t.Errorf("app container %s: want a preStop sleep of at least %v, so it serves while the gateway drains", c.Name, need)
		}
	}
	if apps == 0 {
		t.Error("the sidecar pod has no app container")
	}
}

func envValue(c *corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// TestNetworkPolicyAdmitsOnlyPublicPort: a pod running the gateway is
// isolated for ingress, and every rule admitting traffic names the public
// port only, so the admin API (9091) is out of other pods' reach.
func TestNetworkPolicyAdmitsOnlyPublicPort(t *testing.T) {
	forEachGatewayPod(t, func(t *testing.T, r *rendered, gp gatewayPod) {
		podLabels := labels.Set(gp.dep.Spec.Template.Labels)
		isolated := false
		for _, np := range r.networkPolicies {
			if !matches(t, &np.Spec.PodSelector, podLabels) || !slices.Contains(np.Spec.PolicyTypes, "Ingress") {
				continue
			}
			isolated = true
			for i, rule := range np.Spec.Ingress {
				if len(rule.Ports) == 0 {
					t.Errorf("NetworkPolicy %s ingress[%d] admits every port", np.Name, i)
				}
				for _, p := range rule.Ports {
					if p.Port == nil || p.Port.Type != intstr.Int || p.Port.IntVal != publicPort || p.EndPort != nil {
						t.Errorf("NetworkPolicy %s ingress[%d] admits port %v: want %d only", np.Name, i, p.Port, publicPort)
					}
				}
			}
		}
		if !isolated {
			t.Error("no NetworkPolicy isolates the pod for ingress: the admin port is open to every pod")
		}
	})
}

// TestStoreIsTheRedisService: the replicas share the Redis of
// overlays/redis — gateway.yaml's store points at its Service, and its
// NetworkPolicy admits the gateway's pods.
func TestStoreIsTheRedisService(t *testing.T) {
	forEachGatewayPod(t, func(t *testing.T, r *rendered, gp gatewayPod) {
		cfg := gp.config(t, r)
		if cfg.Store.Type != "redis" {
			t.Fatalf("store.type %q: several replicas need the shared redis store", cfg.Store.Type)
		}
		var addrs []string
		for _, svc := range r.services {
			for _, p := range svc.Spec.Ports {
				if p.Port == 6379 {
					addrs = append(addrs, fmt.Sprintf("%s:%d", svc.Name, p.Port))
				}
			}
		}
		if len(addrs) != 1 || !slices.Equal(cfg.Store.Redis.Addrs, addrs) {
			t.Errorf("store.redis.addrs %v, want the rendered Redis Service %v", cfg.Store.Redis.Addrs, addrs)
		}
		admitted := false
		for _, redis := range r.deploymentsBehindPort(6379) {
			for _, np := range r.networkPolicies {
				if !matches(t, &np.Spec.PodSelector, redis.Spec.Template.Labels) {
					continue
				}
				for _, rule := range np.Spec.Ingress {
					for _, peer := range rule.From {
						if peer.PodSelector != nil && matches(t, peer.PodSelector, gp.dep.Spec.Template.Labels) {
							admitted = true
						}
					}
				}
			}
		}
		if !admitted {
			t.Error("the Redis NetworkPolicy does not admit this pod")
		}
	})
}

// TestRedis: the try-out Redis persists to an append-only file on its
// volume and runs as the image's non-root redis user.
func TestRedis(t *testing.T) {
	r := render(t, "redis")
	if len(r.deployments) != 1 {
		t.Fatalf("%d Deployments, want 1", len(r.deployments))
	}
	d := r.deployments[0]
	c := d.Spec.Template.Spec.Containers[0]
	if !strings.HasPrefix(c.Image, "redis:7") {
		t.Errorf("image %s, want redis:7", c.Image)
	}
	cmd := strings.Join(append(slices.Clone(c.Command), c.Args...), " ")
	for _, want := range []string{"--appendonly yes", "--dir /data", "--requirepass"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("command %q lacks %s", cmd, want)
		}
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/data" }) {
		t.Error("nothing is mounted at /data: the append-only file would hit the read-only root")
	}
	if psc := d.Spec.Template.Spec.SecurityContext; psc == nil || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Error("want a non-zero runAsUser: the image starts as root by default")
	}
}
