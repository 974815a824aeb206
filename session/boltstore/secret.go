package boltstore

import (
	"context"
	"crypto/rand"
	"time"

	bolt "go.etcd.io/bbolt"
)

// metaSecret is the meta key holding the generated refresh-token secret.
const metaSecret = "refresh-secret"

// RefreshSecret returns the secret that keys the refresh-token chain,
// generating and storing one on first use. A single-replica gateway with
// no session.secret configured uses it, so refresh tokens stay valid
// across restarts just as the sessions do. The secret lives only in this
// file (mode 0600).
func (s *Store) RefreshSecret(ctx context.Context) ([]byte, error) {
	var secret []byte
	err := s.update(ctx, "refresh secret", func(tx *bolt.Tx, _ time.Time) error {
		meta := tx.Bucket([]byte(bucketMeta))
		if v := meta.Get([]byte(metaSecret)); len(v) >= 32 {
			secret = append([]byte(nil), v...)
			return nil
		}
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return err
		}
		return meta.Put([]byte(metaSecret), secret)
	})
	if err != nil {
		return nil, err
	}
	return secret, nil
}
