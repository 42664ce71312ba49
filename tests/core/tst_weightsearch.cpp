// The lock's fused searches against the plain definitions they replace, on layers large enough to be split
// over threads, with exclusions, bounds, negative zeros and ties.
#include "model.h"
#include "weightsearch.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

using namespace paramlock;

namespace {

struct Layer
{
    std::vector<float> w;
    std::vector<float> g;
    std::vector<int64_t> excluded;
};

/** 200,000 weights (several blocks), some negative zeros, ties in |g| at the top, a few excluded positions. */
Layer makeLayer(uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 0.1f);
    Layer l;
    const int64_t n = 200000;
    for (int64_t i = 0; i < n; ++i) {
        l.w.push_back(normal(rng));
        l.g.push_back(normal(rng) * 0.01f);
    }
    for (int64_t i = 0; i < n; i += 997)
        l.w[size_t(i)] = -0.0f;
    // The steepest gradient occurs four times, in different blocks; the first is excluded.
    for (int64_t i : {150001, 70001, 190001, 3})
        l.g[size_t(i)] = (i % 2 ? 1.0f : -1.0f);
    l.excluded = {3, 17, 4242, 65536, 131072, 199999};
    return l;
}

Eligibility eligibility(const Layer &l, bool bounded)
{
    return {l.w.data(), int64_t(l.w.size()), &l.excluded, bounded, -0.15f, 0.2f};
}

bool plainEligible(const Layer &l, const Eligibility &e, int64_t i)
{
    const float v = l.w[size_t(i)];
    if (std::binary_search(l.excluded.begin(), l.excluded.end(), i) || (v == 0.0f && std::signbit(v)))
        return false;
    return !e.bounded || (v >= e.lower && v <= e.upper);
}

} // namespace

class TestWeightSearch : public QObject
{
    Q_OBJECT
private slots:
    void init() { configureThreads(2); }
    void cleanupTestCase() { configureThreads(0); }

    void steepestMatchesThePlainArgmax_data()
    {
        QTest::addColumn<bool>("bounded");
        QTest::addColumn<int>("threads");
        QTest::newRow("any value, 1 thread") << false << 1;
        QTest::newRow("any value, 2 threads") << false << 2;
        QTest::newRow("inside the bounds, 2 threads") << true << 2;
    }
    void steepestMatchesThePlainArgmax()
    {
        QFETCH(bool, bounded);
        QFETCH(int, threads);
        configureThreads(threads);
        const Layer l = makeLayer(1);
        const Eligibility e = eligibility(l, bounded);
        int64_t expected = -1;
        for (int64_t i = 0; i < int64_t(l.w.size()); ++i)
            if (plainEligible(l, e, i) && (expected < 0 || std::abs(l.g[size_t(i)]) > std::abs(l.g[size_t(expected)])))
                expected = i;
        const Steepest s = steepestEligible(l.g.data(), e);
        QCOMPARE(s.index, expected);
        QCOMPARE(s.gradient, l.g[size_t(expected)]);
        if (!bounded || plainEligible(l, e, 70001))
            QCOMPARE(s.index, int64_t(70001)); // index 3 ties but is excluded; 70001 is the first of the rest
    }

    void steepestKMatchesASortedList()
    {
        const Layer l = makeLayer(2);
        for (bool bounded : {false, true}) {
            const Eligibility e = eligibility(l, bounded);
            std::vector<int64_t> order;
            for (int64_t i = 0; i < int64_t(l.w.size()); ++i)
                if (plainEligible(l, e, i))
                    order.push_back(i);
            const int64_t eligibleCount = int64_t(order.size());
            std::stable_sort(order.begin(), order.end(),
                [&](int64_t a, int64_t b) { return std::abs(l.g[size_t(a)]) > std::abs(l.g[size_t(b)]); });
            order.resize(8);
            QVERIFY(eligibleCount > 8);
            QCOMPARE(steepestEligibleK(l.g.data(), e, 8), order);
        }
    }

    void partnersMatchTheBruteForceSearch_data()
    {
        QTest::addColumn<float>("sign");
        QTest::newRow("lock: raise the loss") << 1.0f;
        QTest::newRow("attack: lower it") << -1.0f;
    }
    void partnersMatchTheBruteForceSearch()
    {
        QFETCH(float, sign);
        const Layer l = makeLayer(3);
        const Eligibility e = eligibility(l, true);
        const std::vector<int64_t> candidates = steepestEligibleK(l.g.data(), e, 5);
        const std::vector<Partner> found = bestSwapPartners(l.g.data(), e, candidates, sign);
        QCOMPARE(found.size(), candidates.size());
        for (size_t c = 0; c < candidates.size(); ++c) {
            const int64_t i = candidates[c];
            float best = -std::numeric_limits<float>::infinity();
            int64_t at = -1;
            for (int64_t j = 0; j < int64_t(l.w.size()); ++j) {
                if (!plainEligible(l, e, j))
                    continue;
                const float score = sign * ((l.g[size_t(i)] - l.g[size_t(j)]) * (l.w[size_t(j)] - l.w[size_t(i)]));
                if (at < 0 || score > best) {
                    best = score;
                    at = j;
                }
            }
            QCOMPARE(found[c].index, at);
            QCOMPARE(found[c].score, best);
            QVERIFY(found[c].score > 0.0f); // a steep weight always has a partner that helps
        }
    }

    void swapSearchMatchesSearchingEveryCandidate_data()
    {
        QTest::addColumn<int>("pool");
        QTest::addColumn<bool>("bounded");
        QTest::newRow("pool 1") << 1 << true;
        QTest::newRow("pool 3") << 3 << true;
        QTest::newRow("pool 8") << 8 << true;
        QTest::newRow("pool 8, unbounded (nothing skipped)") << 8 << false;
    }
    void swapSearchMatchesSearchingEveryCandidate()
    {
        QFETCH(int, pool);
        QFETCH(bool, bounded);
        // Three layers whose gradients differ in scale by 10x and 100x: with bounds, the steep layer fills the
        // pool and the others cannot beat it, so their partners are not searched; the result is the same.
        std::vector<Layer> layers = {makeLayer(5), makeLayer(6), makeLayer(7)};
        const float scales[] = {0.01f, 1.0f, 0.1f};
        std::vector<SwapLayer> search;
        for (size_t li = 0; li < layers.size(); ++li) {
            for (float &g : layers[li].g)
                g *= scales[li];
            search.push_back({layers[li].g.data(), eligibility(layers[li], bounded)});
        }
        int64_t searched = -1;
        const std::vector<Swap> got = swapSearch(search, pool, &searched);

        std::vector<Swap> all; // every candidate of every layer with its best partner
        for (size_t li = 0; li < search.size(); ++li) {
            const std::vector<int64_t> firsts = steepestEligibleK(search[li].gradient, search[li].eligibility, pool);
            const std::vector<Partner> partners = bestSwapPartners(search[li].gradient, search[li].eligibility, firsts);
            for (size_t k = 0; k < firsts.size(); ++k)
                if (partners[k].score > 0.0f && partners[k].index >= 0 && partners[k].index != firsts[k])
                    all.push_back({double(partners[k].score), li, firsts[k], partners[k].index});
        }
        std::sort(all.begin(), all.end(), betterSwap);
        std::vector<Swap> expected;
        for (const Swap &c : all) {
            const bool seen = std::any_of(expected.begin(), expected.end(), [&](const Swap &d) {
                return d.layer == c.layer && std::minmax(d.first, d.second) == std::minmax(c.first, c.second);
            });
            if (!seen && int(expected.size()) < pool)
                expected.push_back(c);
        }
        QCOMPARE(got.size(), expected.size());
        QCOMPARE(int(got.size()), pool);
        for (size_t k = 0; k < got.size(); ++k) {
            QCOMPARE(got[k].gain, expected[k].gain);
            QCOMPARE(got[k].layer, expected[k].layer);
            QCOMPARE(got[k].first, expected[k].first);
            QCOMPARE(got[k].second, expected[k].second);
        }
        QVERIFY(got.front().layer == 1); // the steep layer
        // With bounds, at least the 100x shallower layer was skipped; without, every candidate was searched.
        if (bounded)
            QVERIFY(searched >= pool && searched <= 2 * pool);
        else
            QCOMPARE(searched, int64_t(3 * pool));
    }

    void nothingEligibleFindsNothing()
    {
        Layer l;
        l.w = {-0.0f, 0.5f, -0.0f};
        l.g = {1.0f, 2.0f, 3.0f};
        l.excluded = {1};
        const Eligibility e = eligibility(l, false);
        QCOMPARE(steepestEligible(l.g.data(), e).index, int64_t(-1));
        QVERIFY(steepestEligibleK(l.g.data(), e, 8).empty());
        l.excluded.clear();
        QCOMPARE(steepestEligibleK(l.g.data(), e, 8), std::vector<int64_t>{1}); // fewer than asked for
        l.excluded = {1};
        QCOMPARE(bestSwapPartners(l.g.data(), e, {1}).front().index, int64_t(-1));
        QVERIFY(bestSwapPartners(l.g.data(), e, {}).empty());
    }
};

QTEST_GUILESS_MAIN(TestWeightSearch)
#include "tst_weightsearch.moc"
