/*
 * seal.h - AES-256-GCM sealing of frame bodies (OpenSSL EVP) and the codec's
 * key ring. Nonces are 96 bits: a random 64-bit prefix per key ring, renewed
 * whenever the 32-bit counter after it wraps, so no nonce repeats under a key
 * within one codec and collisions across codecs need a 64-bit coincidence.
 */
#ifndef HR_CODEC_SEAL_H
#define HR_CODEC_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "bytebuf.h"

#define HR__NONCE_SIZE 12
#define HR__TAG_SIZE 16

typedef struct hr__key {
    uint32_t id;
    uint8_t bytes[32];
} hr__key;

typedef struct hr__keyring {
    hr__key *keys;
    size_t count;
    size_t cap;
    uint8_t nonce_prefix[8];
    uint32_t nonce_counter;
    int prefix_ready;
    EVP_CIPHER_CTX *ctx; /* created on first use, reused */
} hr__keyring;

void hr__keyring_init(hr__keyring *ring);
/* Wipes every key. */
void hr__keyring_free(const hr_env *env, hr__keyring *ring);
/* HR_OK, HR_EINVAL (same id, other key), HR_ENOMEM. */
int hr__keyring_add(const hr_env *env, hr__keyring *ring, uint32_t id,
                    const uint8_t bytes[32]);
int hr__keyring_remove(hr__keyring *ring, uint32_t id);
const hr__key *hr__keyring_find(const hr__keyring *ring, uint32_t id);

/* A fresh nonce for the next frame. HR_OK or HR_EINTERNAL (no randomness). */
int hr__keyring_next_nonce(hr__keyring *ring, uint8_t nonce[HR__NONCE_SIZE]);

/*
 * Encrypt `plain` and append ciphertext + tag to `out`. HR_OK, HR_ENOMEM,
 * HR_EINTERNAL (OpenSSL failure).
 */
int hr__seal(hr__keyring *ring, const hr__key *key,
             const uint8_t nonce[HR__NONCE_SIZE], const uint8_t *aad,
             size_t aad_len, const uint8_t *aad2, size_t aad2_len,
             const uint8_t *plain, size_t plain_len, hr__wbuf *out);

/*
 * Decrypt `sealed` (ciphertext + tag) into `out` (reset first). HR_OK,
 * HR_EAUTH (tag mismatch), HR_ECORRUPT (shorter than a tag), HR_ENOMEM,
 * HR_EINTERNAL.
 */
int hr__open(hr__keyring *ring, const hr__key *key,
             const uint8_t nonce[HR__NONCE_SIZE], const uint8_t *aad,
             size_t aad_len, const uint8_t *aad2, size_t aad2_len,
             const uint8_t *sealed, size_t sealed_len, hr__wbuf *out);

#endif /* HR_CODEC_SEAL_H */
