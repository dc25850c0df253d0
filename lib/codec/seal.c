/* seal.c - see seal.h. */
#include "seal.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

void hr__keyring_init(hr__keyring *ring)
{
    memset(ring, 0, sizeof *ring);
}

void hr__keyring_free(const hr_env *env, hr__keyring *ring)
{
    if (ring->keys) {
        OPENSSL_cleanse(ring->keys, ring->cap * sizeof *ring->keys);
        hr__free(env, ring->keys);
    }
    EVP_CIPHER_CTX_free(ring->ctx);
    memset(ring, 0, sizeof *ring);
}

const hr__key *hr__keyring_find(const hr__keyring *ring, uint32_t id)
{
    for (size_t i = 0; i < ring->count; i++)
        if (ring->keys[i].id == id)
            return &ring->keys[i];
    return NULL;
}

int hr__keyring_add(const hr_env *env, hr__keyring *ring, uint32_t id,
                    const uint8_t bytes[32])
{
    const hr__key *existing = hr__keyring_find(ring, id);
    if (existing)
        return CRYPTO_memcmp(existing->bytes, bytes, 32) == 0 ? HR_OK
                                                              : HR_EINVAL;
    if (ring->count == ring->cap) {
        size_t cap = ring->cap ? ring->cap * 2 : 4;
        /* Not realloc: the old block holds keys and must be wiped. */
        hr__key *keys = hr__calloc(env, cap, sizeof *keys);
        if (!keys)
            return HR_ENOMEM;
        if (ring->keys) {
            memcpy(keys, ring->keys, ring->count * sizeof *keys);
            OPENSSL_cleanse(ring->keys, ring->cap * sizeof *ring->keys);
            hr__free(env, ring->keys);
        }
        ring->keys = keys;
        ring->cap = cap;
    }
    ring->keys[ring->count].id = id;
    memcpy(ring->keys[ring->count].bytes, bytes, 32);
    ring->count++;
    return HR_OK;
}

int hr__keyring_remove(hr__keyring *ring, uint32_t id)
{
    for (size_t i = 0; i < ring->count; i++) {
        if (ring->keys[i].id != id)
            continue;
        ring->keys[i] = ring->keys[ring->count - 1];
        OPENSSL_cleanse(&ring->keys[ring->count - 1], sizeof(hr__key));
        ring->count--;
        return HR_OK;
    }
    return HR_ENOTFOUND;
}

int hr__keyring_next_nonce(hr__keyring *ring, uint8_t nonce[HR__NONCE_SIZE])
{
    if (!ring->prefix_ready || ring->nonce_counter == UINT32_MAX) {
        if (RAND_bytes(ring->nonce_prefix, sizeof ring->nonce_prefix) != 1)
            return HR_EINTERNAL;
        ring->prefix_ready = 1;
        ring->nonce_counter = 0;
    }
    ring->nonce_counter++;
    memcpy(nonce, ring->nonce_prefix, 8);
    hr__store_u32(nonce + 8, ring->nonce_counter);
    return HR_OK;
}

static int cipher_ctx(hr__keyring *ring)
{
    if (!ring->ctx)
        ring->ctx = EVP_CIPHER_CTX_new();
    return ring->ctx ? HR_OK : HR_ENOMEM;
}

/* Feed both AAD parts (the frame header and the tenant id). */
static int add_aad(EVP_CIPHER_CTX *ctx, const uint8_t *a, size_t alen,
                   const uint8_t *b, size_t blen)
{
    int outl;
    if (alen > INT_MAX || blen > INT_MAX)
        return 0;
    if (alen && EVP_CipherUpdate(ctx, NULL, &outl, a, (int)alen) != 1)
        return 0;
    if (blen && EVP_CipherUpdate(ctx, NULL, &outl, b, (int)blen) != 1)
        return 0;
    return 1;
}

int hr__seal(hr__keyring *ring, const hr__key *key,
             const uint8_t nonce[HR__NONCE_SIZE], const uint8_t *aad,
             size_t aad_len, const uint8_t *aad2, size_t aad2_len,
             const uint8_t *plain, size_t plain_len, hr__wbuf *out)
{
    if (plain_len > INT_MAX)
        return HR_ELIMIT;
    if (cipher_ctx(ring) != HR_OK)
        return HR_ENOMEM;
    if (hr__wbuf_reserve(out, plain_len + HR__TAG_SIZE) != 0)
        return HR_ENOMEM;
    EVP_CIPHER_CTX *ctx = ring->ctx;
    uint8_t *dst = out->data + out->len;
    int outl = 0, finl = 0;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->bytes, nonce) != 1 ||
        !add_aad(ctx, aad, aad_len, aad2, aad2_len) ||
        EVP_EncryptUpdate(ctx, dst, &outl, plain, (int)plain_len) != 1 ||
        EVP_EncryptFinal_ex(ctx, dst + outl, &finl) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, HR__TAG_SIZE,
                            dst + outl + finl) != 1)
        return HR_EINTERNAL;
    out->len += (size_t)outl + (size_t)finl + HR__TAG_SIZE;
    return HR_OK;
}

int hr__open(hr__keyring *ring, const hr__key *key,
             const uint8_t nonce[HR__NONCE_SIZE], const uint8_t *aad,
             size_t aad_len, const uint8_t *aad2, size_t aad2_len,
             const uint8_t *sealed, size_t sealed_len, hr__wbuf *out)
{
    out->len = 0;
    if (sealed_len < HR__TAG_SIZE)
        return HR_ECORRUPT;
    size_t cipher_len = sealed_len - HR__TAG_SIZE;
    if (cipher_len > INT_MAX)
        return HR_ELIMIT;
    if (cipher_ctx(ring) != HR_OK || hr__wbuf_reserve(out, cipher_len + 1) != 0)
        return HR_ENOMEM;
    EVP_CIPHER_CTX *ctx = ring->ctx;
    int outl = 0, finl = 0;
    uint8_t tag[HR__TAG_SIZE];
    memcpy(tag, sealed + cipher_len, HR__TAG_SIZE);
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->bytes, nonce) != 1 ||
        !add_aad(ctx, aad, aad_len, aad2, aad2_len) ||
        EVP_DecryptUpdate(ctx, out->data, &outl, sealed, (int)cipher_len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, HR__TAG_SIZE, tag) != 1)
        return HR_EINTERNAL;
    if (EVP_DecryptFinal_ex(ctx, out->data + outl, &finl) != 1) {
        /* Never hand out plaintext that failed authentication. */
        OPENSSL_cleanse(out->data, cipher_len);
        return HR_EAUTH;
    }
    out->len = (size_t)outl + (size_t)finl;
    return HR_OK;
}
