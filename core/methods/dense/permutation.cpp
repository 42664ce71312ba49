// The keyed permutation: ChaCha20's keystream (libsodium), with the secret as key and the stream number as nonce,
// read as 64-bit words that drive a Fisher-Yates shuffle. A bounded draw rejects the words below 2^64 mod m, so each
// of the m outcomes is exactly equally likely.
#include "dense.h"

#include <sodium.h>

#include <array>
#include <cstring>
#include <numeric>
#include <stdexcept>

namespace paramlock {

namespace {

class KeyStream
{
public:
    KeyStream(const DenseSecret &secret, uint64_t stream) : m_secret(secret)
    {
        if (sodium_init() < 0)
            throw std::runtime_error("libsodium could not be initialised");
        for (size_t i = 0; i < m_nonce.size(); ++i)
            m_nonce[i] = uint8_t(stream >> (8 * i));
    }
    uint64_t next()
    {
        if (m_at == m_words.size())
            refill();
        return m_words[m_at++];
    }
    /** Uniform in [0, m), m >= 1. */
    uint64_t below(uint64_t m)
    {
        const uint64_t reject = (0 - m) % m; // 2^64 mod m
        uint64_t r = next();
        while (r < reject)
            r = next();
        return r % m;
    }

private:
    void refill()
    {
        static const std::array<uint8_t, kBytes> zeros{};
        std::array<uint8_t, kBytes> bytes;
        crypto_stream_chacha20_xor_ic(bytes.data(), zeros.data(), kBytes, m_nonce.data(), m_block, m_secret.data());
        m_block += kBytes / 64;
        for (size_t i = 0; i < m_words.size(); ++i) {
            uint64_t w = 0;
            for (int b = 7; b >= 0; --b)
                w = (w << 8) | bytes[i * 8 + size_t(b)];
            m_words[i] = w;
        }
        m_at = 0;
    }

    static constexpr size_t kBytes = 4096;
    DenseSecret m_secret;
    std::array<uint8_t, crypto_stream_chacha20_NONCEBYTES> m_nonce{};
    uint64_t m_block = 0;
    std::array<uint64_t, kBytes / 8> m_words{};
    size_t m_at = kBytes / 8;
};

static_assert(crypto_stream_chacha20_KEYBYTES == std::tuple_size<DenseSecret>::value, "the secret is ChaCha20's key");

} // namespace

std::vector<int64_t> keyedPermutation(const DenseSecret &secret, uint64_t stream, int64_t n)
{
    std::vector<int64_t> perm(size_t(std::max<int64_t>(0, n)));
    std::iota(perm.begin(), perm.end(), int64_t(0));
    KeyStream keys(secret, stream);
    for (int64_t i = n - 1; i > 0; --i)
        std::swap(perm[size_t(i)], perm[size_t(keys.below(uint64_t(i) + 1))]);
    return perm;
}

} // namespace paramlock
