#include "batchsize.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

namespace paramlock {

namespace {

constexpr double kClearlySlower = 1.25; ///< a rung this much slower per image than the best ends the climb

std::mutex &cacheMutex()
{
    static std::mutex m;
    return m;
}

std::map<std::string, int> &cache()
{
    static std::map<std::string, int> c;
    return c;
}

} // namespace

const std::vector<int> &ForwardBatches::ladder()
{
    static const std::vector<int> sizes{8, 16, 32, 64, 128, 256};
    return sizes;
}

ForwardBatches::ForwardBatches(std::string key, int requested) : m_key(std::move(key))
{
    if (requested > 0)
        m_chosen = requested;
    else
        m_chosen = cached(m_key);
}

int64_t ForwardBatches::next(int64_t remaining) const
{
    const int64_t size = m_chosen > 0 ? m_chosen : ladder()[m_rung];
    return std::max<int64_t>(1, std::min(size, remaining));
}

void ForwardBatches::record(int64_t size, double seconds)
{
    if (m_chosen > 0 || size != ladder()[m_rung])
        return; // settled, or the pass's short last batch
    m_fastest = m_samples == 0 ? seconds : std::min(m_fastest, seconds);
    const int wanted = m_rung == 0 ? 3 : 2;
    if (++m_samples < wanted)
        return;
    const double perImage = m_fastest / double(size);
    if (m_bestSize == 0 || perImage < m_bestPerImage) {
        m_bestSize = int(size);
        m_bestPerImage = perImage;
    }
    m_samples = 0;
    if (perImage > kClearlySlower * m_bestPerImage || m_rung + 1 == ladder().size())
        settle(m_bestSize);
    else
        ++m_rung;
}

void ForwardBatches::settle(int size)
{
    m_chosen = size;
    m_probed = true;
    std::lock_guard<std::mutex> lock(cacheMutex());
    cache()[m_key] = size;
}

int ForwardBatches::cached(const std::string &key)
{
    std::lock_guard<std::mutex> lock(cacheMutex());
    const auto it = cache().find(key);
    return it == cache().end() ? 0 : it->second;
}

void ForwardBatches::forget()
{
    std::lock_guard<std::mutex> lock(cacheMutex());
    cache().clear();
}

} // namespace paramlock
