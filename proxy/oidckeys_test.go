package proxy

import (
	"slices"
	"testing"
)

// TestProviderAlgs: only asymmetric algorithms a JWKS key can verify are
// taken from discovery; none left means RS256, discovery's default.
func TestProviderAlgs(t *testing.T) {
	for _, tc := range []struct{ discovered, want []string }{
		{nil, []string{"RS256"}},
		{[]string{"HS256", "none"}, []string{"RS256"}},
		{[]string{"ES512"}, []string{"RS256"}},
		{[]string{"HS256", "ES256", "RS256", "none", "EdDSA"}, []string{"ES256", "RS256", "EdDSA"}},
	} {
		if got := providerAlgs(tc.discovered); !slices.Equal(got, tc.want) {
			t.Errorf("providerAlgs(%q) = %q, want %q", tc.discovered, got, tc.want)
		}
	}
}
