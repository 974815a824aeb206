package proxy

import (
	"log/slog"
	"net/http"
	"time"
)

// AccessLog wraps h so that every request is logged once it is answered:
// method, path, status, duration, request id and peer. It never logs
// headers, cookies or query strings (they may carry tokens or personal
// data). Enable it with log.access.
func AccessLog(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		log.LogAttrs(r.Context(), slog.LevelInfo, "access",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status()),
			slog.Duration("duration", time.Since(start)),
			slog.String("request_id", w.Header().Get(requestIDHeader)),
			slog.String("peer", r.RemoteAddr),
		)
	})
}
