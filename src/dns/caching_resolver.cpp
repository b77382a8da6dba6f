#include <sendcheck/dns/caching_resolver.hpp>
#include <sendcheck/util/strings.hpp>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace sendcheck::dns {

[[gnu::always_inline]] inline size_t
CachingResolver::hash_key(std::string_view name, RRType type) noexcept
{
  // The name 8 octets at a time, each word mixed in by a multiply, then MurmurHash3's final avalanche (fmix64), so
  // that every bit of the result, the low ones the map's bucket index uses too, depends on every octet. Names are
  // short ("d1234.bench.test"): this is 2 or 3 words, where std::hash (MurmurHash2 in std::_Hash_bytes) cost about
  // 75 instructions a name. Measured on 820,000 names like those asked (d1234.bench.test, _spf.d1234.bench.test,
  // 1.2.0.127.in-addr.arpa, ..., with each type): bucket loads as even as std::hash's, no two names alike.
  constexpr uint64_t k_multiplier = 0x9e3779b97f4a7c15ULL; // 2^64 / golden ratio, odd
  uint64_t hash = (name.size() * k_multiplier) ^ static_cast<uint64_t>(type);
  const auto mix = [&hash](uint64_t word) {
    hash = (hash ^ word) * k_multiplier;
    hash ^= hash >> 32;
  };
  size_t pos = 0;
  for (; pos + sizeof(uint64_t) <= name.size(); pos += sizeof(uint64_t)) {
    uint64_t word = 0;
    std::memcpy(&word, name.data() + pos, sizeof word);
    mix(word);
  }
  if (pos < name.size()) {
    uint64_t word = 0;
    if (name.size() >= sizeof(uint64_t)) {
      // The last 8 octets, overlapping the word before: one load instead of one per octet left.
      std::memcpy(&word, name.data() + name.size() - sizeof word, sizeof word);
    } else {
      for (size_t i = 0; i < name.size(); ++i) {
        word |= uint64_t{ static_cast<unsigned char>(name[i]) } << (8 * i);
      }
    }
    mix(word);
  }
  hash ^= hash >> 33;
  hash *= 0xff51afd7ed558ccdULL;
  hash ^= hash >> 33;
  hash *= 0xc4ceb9fe1a85ec53ULL;
  hash ^= hash >> 33;
  return static_cast<size_t>(hash);
}

CachingResolver::CachingResolver(Resolver& upstream, size_t max_entries)
  : m_upstream(upstream)
  , m_max_entries(max_entries)
{
  // Room for 1,024 entries (or the bound, when lower), and an index for them, made at once: growing from nothing
  // moved every entry (a name, a callback, an answer) at each doubling, and rebuilt the index at each (0.4% of a
  // 2000-domain run's instructions). Not room for the whole bound: the index is written when it is made, and for a
  // check of one domain an index for 8,192 entries was 37 page faults more (128 KiB) for nothing.
  if (m_max_entries != 0) {
    constexpr size_t k_initial_room = 1024;
    const size_t room = std::min(m_max_entries, k_initial_room);
    m_entries.reserve(room);
    m_slots.assign(std::bit_ceil(2 * room), Slot{});
  }
}

// The steps of a lookup (hash_key above, find_slot, find, locate_normalized, locate, query_at) are forced inline:
// 37,000 lookups on a 2000-domain run, most of them hits of about a hundred instructions, of which the calls between
// the steps (register saves, a Place passed through memory) took a third (measured: 205.3M -> 202.2M instructions
// for the run; hash_key too: 153.2M -> 153.0M).
[[gnu::always_inline]] inline size_t
CachingResolver::find_slot(std::string_view name, RRType type, size_t hash) const noexcept
{
  const size_t mask = m_slots.size() - 1;
  const uint32_t tag = tag_of(hash);
  for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    const Slot& candidate = m_slots[slot];
    if (candidate.entry == k_none) {
      return slot;
    }
    if (candidate.tag == tag) {
      const Entry& entry = m_entries[candidate.entry];
      if (entry.hash == hash && entry.type == type && entry.name == name) {
        return slot;
      }
    }
  }
}

[[gnu::always_inline]] inline CachingResolver::Index
CachingResolver::find(std::string_view name, RRType type, size_t hash) const noexcept
{
  if (m_slots.empty()) {
    return k_none;
  }
  return m_slots[find_slot(name, type, hash)].entry;
}

CachingResolver::Index
CachingResolver::insert(std::string_view name, RRType type, size_t hash)
{
  // At most half full, so that probes stay short.
  if (2 * (m_indexed + 1) > m_slots.size()) {
    grow_slots();
  }
  Index index = m_free;
  if (index != k_none) {
    m_free = m_entries[index].older;
  } else {
    if (m_entries.size() >= k_none) {
      throw std::length_error("CachingResolver: too many entries");
    }
    index = static_cast<Index>(m_entries.size());
    m_entries.emplace_back();
  }
  Entry& entry = m_entries[index];
  entry.name.assign(name);
  entry.hash = hash;
  entry.type = type;
  entry.state = State::in_flight;
  entry.older = k_none;
  entry.newer = k_none;
  m_slots[find_slot(name, type, hash)] = Slot{ tag_of(hash), index };
  ++m_indexed;
  return index;
}

void
CachingResolver::erase(Index index)
{
  Entry& entry = m_entries[index];
  // Backward-shift deletion: the entries after the hole in its probe run move up into it when their home slot
  // allows, so that every entry stays reachable from its home without tombstones.
  const size_t mask = m_slots.size() - 1;
  size_t hole = entry.hash & mask;
  while (m_slots[hole].entry != index) {
    hole = (hole + 1) & mask;
  }
  for (size_t slot = (hole + 1) & mask; m_slots[slot].entry != k_none; slot = (slot + 1) & mask) {
    const size_t home = m_entries[m_slots[slot].entry].hash & mask;
    // The entry at `slot` may move to `hole` unless its home lies after the hole, up to `slot` (cyclically).
    if (((slot - home) & mask) >= ((slot - hole) & mask)) {
      m_slots[hole] = m_slots[slot];
      hole = slot;
    }
  }
  m_slots[hole] = Slot{};
  --m_indexed;

  entry.name.clear(); // keeps the buffer for the next name
  entry.answer = nullptr;
  entry.state = State::free;
  entry.older = m_free;
  m_free = index;
}

void
CachingResolver::grow_slots()
{
  m_slots.assign(m_slots.empty() ? 64 : 2 * m_slots.size(), Slot{});
  const size_t mask = m_slots.size() - 1;
  for (Index index = 0; index < m_entries.size(); ++index) {
    if (m_entries[index].state == State::free) {
      continue;
    }
    size_t slot = m_entries[index].hash & mask;
    while (m_slots[slot].entry != k_none) {
      slot = (slot + 1) & mask;
    }
    m_slots[slot] = Slot{ tag_of(m_entries[index].hash), index };
  }
}

void
CachingResolver::link_newest(Index index) noexcept
{
  Entry& entry = m_entries[index];
  entry.older = m_newest;
  entry.newer = k_none;
  if (m_newest != k_none) {
    m_entries[m_newest].newer = index;
  } else {
    m_oldest = index;
  }
  m_newest = index;
}

void
CachingResolver::unlink(Index index) noexcept
{
  Entry& entry = m_entries[index];
  (entry.older != k_none ? m_entries[entry.older].newer : m_oldest) = entry.newer;
  (entry.newer != k_none ? m_entries[entry.newer].older : m_newest) = entry.older;
  entry.older = k_none;
  entry.newer = k_none;
}

[[gnu::always_inline]] inline CachingResolver::Place
CachingResolver::locate_normalized(std::string_view name, RRType type) const noexcept
{
  const size_t hash = hash_key(name, type);
  return Place{ name, hash, find(name, type, hash) };
}

[[gnu::always_inline]] inline CachingResolver::Place
CachingResolver::locate(std::string_view name, RRType type, std::string& storage) const
{
  // Every key is lower-case, so a name without a trailing dot that is found as given is normalized: a hit, the
  // usual case, needs no scan of the name for upper case. (A key may end in a dot: "a.." is asked as "a.", which
  // "a." itself is not.)
  if (name.empty() || name.back() != '.') {
    const Place place = locate_normalized(name, type);
    if (place.entry != k_none || util::is_normalized_name(name)) {
      return place;
    }
  }
  return locate_normalized(util::normalize_name(name, storage), type);
}

void
CachingResolver::query(std::string_view name, RRType type, Callback done)
{
  std::string storage;
  query_at(locate(name, type, storage), type, std::move(done));
}

void
CachingResolver::query_normalized(std::string_view name, RRType type, Callback done)
{
  query_at(locate_normalized(name, type), type, std::move(done));
}

[[gnu::always_inline]] inline void
CachingResolver::query_at(const Place& place, RRType type, Callback&& done)
{
  ++m_stats.queries;
  if (place.entry == k_none) {
    const Index added = insert(place.key, type, place.hash);
    m_entries[added].first_waiter = std::move(done);
    send(added);
    return;
  }
  const Index index = place.entry;
  Entry& entry = m_entries[index];
  if (entry.state == State::answered) {
    ++m_stats.hits;
    if (index != m_newest) {
      unlink(index);
      link_newest(index);
    }
    // The callback gets its own reference, made before it runs: it may query again and so move the entries.
    done(AnswerPtr(entry.answer));
    return;
  }
  ++m_stats.coalesced;
  if (entry.first_waiter) {
    entry.more_waiters.push_back(std::move(done));
  } else {
    entry.first_waiter = std::move(done);
  }
}

void
CachingResolver::prefetch(std::string_view name, RRType type)
{
  std::string storage;
  prefetch_at(locate(name, type, storage), type);
}

void
CachingResolver::prefetch_normalized(std::string_view name, RRType type)
{
  prefetch_at(locate_normalized(name, type), type);
}

void
CachingResolver::prefetch_at(const Place& place, RRType type)
{
  if (place.entry != k_none) {
    return;
  }
  ++m_stats.prefetches;
  send(insert(place.key, type, place.hash));
}

void
CachingResolver::send(Index index)
{
  ++m_stats.upstream;
  Entry& entry = m_entries[index];
  const uint32_t serial = m_next_query_serial++;
  entry.query_serial = serial;
  // The entry's name stays valid until the answer comes (an entry in flight is never evicted, and the entries only
  // move when one is added, which an upstream that answers at once does after calling back). The callback holds
  // 16 octets, small enough for std::function to keep without allocating.
  m_upstream.query_normalized(
    entry.name, entry.type, [this, index, serial](AnswerPtr answer) { complete(index, serial, std::move(answer)); });
}

void
CachingResolver::complete(Index index, uint32_t query_serial, AnswerPtr answer)
{
  Entry& entry = m_entries[index];
  if (entry.state != State::in_flight || entry.query_serial != query_serial) {
    return; // an upstream that broke its contract and answered twice (the entry may even be another key's by now)
  }
  if (!answer) {
    answer = make_status_answer(entry.name, RRType::a, Status::error, {}, "no answer given");
  }
  Callback first = std::move(entry.first_waiter);
  entry.first_waiter = nullptr;
  std::vector<Callback> more = std::move(entry.more_waiters);
  entry.more_waiters.clear();
  entry.answer = answer;
  entry.state = State::answered;
  link_newest(index);
  ++m_answered;
  evict(); // may drop this very entry (when the limit is tiny): only locals are used from here on
  if (first) {
    first(answer);
  }
  for (auto& waiter : more) {
    waiter(answer);
  }
}

void
CachingResolver::evict()
{
  if (m_max_entries == 0) {
    return;
  }
  while (m_answered > m_max_entries) {
    const Index oldest = m_oldest;
    unlink(oldest);
    --m_answered;
    erase(oldest);
    ++m_stats.evictions;
  }
}

AnswerPtr
CachingResolver::cached(std::string_view name, RRType type) const
{
  std::string storage;
  const Index index = locate(name, type, storage).entry;
  return index == k_none ? nullptr : m_entries[index].answer;
}

void
CachingResolver::run()
{
  m_upstream.run();
}

} // namespace sendcheck::dns
