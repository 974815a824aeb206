package deploy

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// identityHeaders are identity_headers' defaults (docs/configuration.md),
// which gateway.yaml keeps; the proxies must copy exactly these.
var identityHeaders = []string{"X-Auth-User", "X-Auth-Email", "X-Auth-Roles", "X-Auth-Session"}

// traefikMiddleware is the part of Traefik's Middleware CRD
// (traefik.io/v1alpha1) the forward-auth overlay uses. Its types are not
// in k8s.io/api, and Traefik's module would bring the whole proxy's
// dependencies, so this struct stands in for its schema: decoded strictly,
// a misspelt or unsupported field still fails.
type traefikMiddleware struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metadataOnly      `json:"metadata"`
	Spec       traefikMiddleSpec `json:"spec"`
}

type metadataOnly struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

type traefikMiddleSpec struct {
	ForwardAuth *traefikForwardAuth `json:"forwardAuth,omitempty"`
}

// traefikForwardAuth lists the ForwardAuth options of Traefik v3's CRD
// (https://doc.traefik.io/traefik/middlewares/http/forwardauth/).
type traefikForwardAuth struct {
	Address                  string   `json:"address"`
	TrustForwardHeader       bool     `json:"trustForwardHeader,omitempty"`
	AuthResponseHeaders      []string `json:"authResponseHeaders,omitempty"`
	AuthResponseHeadersRegex string   `json:"authResponseHeadersRegex,omitempty"`
	AuthRequestHeaders       []string `json:"authRequestHeaders,omitempty"`
	AddAuthCookiesToResponse []string `json:"addAuthCookiesToResponse,omitempty"`
	ForwardBody              bool     `json:"forwardBody,omitempty"`
	MaxBodySize              *int64   `json:"maxBodySize,omitempty"`
	PreserveLocationHeader   bool     `json:"preserveLocationHeader,omitempty"`
	PreserveRequestMethod    bool     `json:"preserveRequestMethod,omitempty"`
	HeaderField              string   `json:"headerField,omitempty"`
	TLS                      *struct {
		CASecret           string `json:"caSecret,omitempty"`
		CertSecret         string `json:"certSecret,omitempty"`
		InsecureSkipVerify bool   `json:"insecureSkipVerify,omitempty"`
		CAOptional         *bool  `json:"caOptional,omitempty"`
	} `json:"tls,omitempty"`
}

// authURL checks that a forward-auth address reaches the gateway: the
// verify endpoint on a rendered Service (by its cluster DNS name) whose
// port leads to the gateway's public port.
func authURL(t *testing.T, r *rendered, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("auth address %q: %v", raw, err)
	}
	if u.Path != "/.auth/verify" {
		t.Errorf("auth address %q: want the path /.auth/verify", raw)
	}
	port := int32(80)
	if p := u.Port(); p != "" {
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil {
			t.Fatalf("auth address %q: port: %v", raw, err)
		}
		port = int32(n)
	}
	for _, svc := range r.services {
		if u.Hostname() != svc.Name+"."+svc.Namespace+".svc.cluster.local" {
			continue
		}
		for _, p := range svc.Spec.Ports {
			if p.Port != port {
				continue
			}
			for _, d := range selectedDeployments(r, labels.SelectorFromSet(svc.Spec.Selector)) {
				if c, cp, ok := containerPort(&d.Spec.Template.Spec, p.TargetPort); ok && c.Name == gatewayContainerName && cp == publicPort {
					return u
				}
			}
		}
	}
	t.Errorf("auth address %q does not name a rendered Service (name.namespace.svc.cluster.local:port) that leads to the gateway's port %d", raw, publicPort)
	return u
}

// TestForwardAuthIngressNginx: the app's Ingress asks the gateway about
// every request, and on each of its hosts the gateway's own endpoints
// (/.auth) are routed to the gateway without that check.
func TestForwardAuthIngressNginx(t *testing.T) {
	r := render(t, "forward-auth")
	const prefix = "nginx.ingress.kubernetes.io/"
	gw := r.gatewayService(t)
	var protectedHosts, endpointHosts []string
	for _, ing := range r.ingresses {
		a := ing.Annotations
		raw, protected := a[prefix+"auth-url"]
		for _, rule := range ing.Spec.Rules {
			if protected {
				protectedHosts = append(protectedHosts, rule.Host)
				continue
			}
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				if p.Path == "/.auth" && p.Backend.Service != nil && p.Backend.Service.Name == gw.Name {
					endpointHosts = append(endpointHosts, rule.Host)
				}
			}
		}
		if !protected {
			continue
		}
		u := authURL(t, r, raw)
		if u.Query().Get("login") != "status" {
			t.Errorf("%s: auth-url %q: want login=status (nginx turns an auth redirect into a 500)", ing.Name, raw)
		}
		if got := strings.Split(a[prefix+"auth-response-headers"], ","); !slices.Equal(got, identityHeaders) {
			t.Errorf("%s: auth-response-headers %q, want %q", ing.Name, got, identityHeaders)
		}
		if a[prefix+"auth-always-set-cookie"] != "true" {
			t.Errorf("%s: want auth-always-set-cookie \"true\", so a refreshed cookie reaches the browser", ing.Name)
		}
		if s := a[prefix+"auth-signin"]; !strings.HasPrefix(s, "https://$host/.auth/login?rd=") {
			t.Errorf("%s: auth-signin %q: want the gateway's login page on the same host, with rd", ing.Name, s)
		}
	}
	if len(protectedHosts) == 0 {
		t.Error("no Ingress has an auth-url")
	}
	for _, h := range protectedHosts {
		if !slices.Contains(endpointHosts, h) {
			t.Errorf("host %q is protected but its /.auth is not routed to the %s Service: the login page is unreachable", h, gw.Name)
		}
	}
	defaultIdentityHeaders(t, r)
}

// gatewayService is the forward-auth overlay's one Service for the gateway.
func (r *rendered) gatewayService(t *testing.T) *corev1.Service {
	t.Helper()
	for _, svc := range r.services {
		for _, d := range selectedDeployments(r, labels.SelectorFromSet(svc.Spec.Selector)) {
			if slices.ContainsFunc(d.Spec.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == gatewayContainerName }) {
				return svc
			}
		}
	}
	t.Fatal("no Service for the gateway")
	return nil
}

// TestTraefikMiddleware: the ForwardAuth middleware (decoded strictly
// into traefikMiddleware) reaches the gateway, copies the identity
// headers and passes back the session cookie.
func TestTraefikMiddleware(t *testing.T) {
	r := render(t, "forward-auth")
	if len(r.middlewares) != 1 {
		t.Fatalf("%d Traefik Middleware objects, want 1", len(r.middlewares))
	}
	fa := r.middlewares[0].Spec.ForwardAuth
	if fa == nil {
		t.Fatal("the Middleware has no forwardAuth")
	}
	authURL(t, r, fa.Address)
	if !slices.Equal(fa.AuthResponseHeaders, identityHeaders) {
		t.Errorf("authResponseHeaders %q, want %q", fa.AuthResponseHeaders, identityHeaders)
	}
	gps := r.gatewayPods()
	if len(gps) == 0 {
		t.Fatal("no gateway")
	}
	cfg := gps[0].config(t, r)
	// The cookie's name is __Host-gatehouse for an https public_url with
	// cookie settings left at their defaults (docs/configuration.md).
	if !strings.HasPrefix(cfg.PublicURL, "https://") || cfg.Cookie != nil {
		t.Fatalf("gateway.yaml changes what the session cookie is called; update this test")
	}
	if !slices.Equal(fa.AddAuthCookiesToResponse, []string{"__Host-gatehouse"}) {
		t.Errorf("addAuthCookiesToResponse %q, want [__Host-gatehouse]", fa.AddAuthCookiesToResponse)
	}
	if !fa.TrustForwardHeader {
		t.Error("trustForwardHeader is false: a TLS-terminating load balancer's X-Forwarded-Proto would be lost")
	}
	defaultIdentityHeaders(t, r)
}

// defaultIdentityHeaders fails when gateway.yaml renames the identity
// headers, which identityHeaders assumes it does not.
func defaultIdentityHeaders(t *testing.T, r *rendered) {
	t.Helper()
	for _, gp := range r.gatewayPods() {
		if gp.config(t, r).IdentityHeaders != nil {
			t.Error("gateway.yaml sets identity_headers: update identityHeaders and the proxies' header lists together")
		}
	}
}
