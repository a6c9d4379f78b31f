//! A generational slab: a `Vec` of slots addressed by [`Key`]s that cannot
//! go stale.
//!
//! The loop keeps two tables of things that other parties refer to by
//! number: tasks (referred to by wakers and `JoinHandle`s) and I/O sources
//! (referred to by the tokens the kernel hands back with each event). Both
//! have the same hazard: the thing is removed, its slot is reused, and an
//! old number now points at a newcomer. A late wake would poll the wrong
//! task; a late event would wake the wrong socket's reader.
//!
//! The cure is a generation per slot. A key is `(index, generation)`;
//! removing an entry bumps the slot's generation, so every key handed out
//! before no longer matches. Lookups with a stale key find nothing.
//!
//! Read next: `reactor.rs`, the other table keyed this way.

/// Names a slot and the generation of the entry it was handed out for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Key {
    index: u32,
    generation: u32,
}

/// No slab hands out this index, so keys built with it never match an
/// entry. The executor uses it for `block_on`'s future, which lives on the
/// caller's stack rather than in the task table.
const RESERVED_INDEX: u32 = u32::MAX;

impl Key {
    /// A key that no slab lookup will ever match.
    pub(crate) fn reserved(generation: u32) -> Key {
        Key {
            index: RESERVED_INDEX,
            generation,
        }
    }

    /// Packs the key into one `usize` (a `mio::Token` carries one): the
    /// generation in the high 32 bits, the index in the low 32.
    pub(crate) fn to_usize(self) -> usize {
        ((self.generation as usize) << 32) | self.index as usize
    }

    /// The inverse of [`Key::to_usize`].
    pub(crate) fn from_usize(packed: usize) -> Key {
        Key {
            index: packed as u32,
            generation: (packed >> 32) as u32,
        }
    }
}

struct Slot<T> {
    generation: u32,
    /// While the slot is empty: the next empty slot, or [`NO_SLOT`]. The
    /// empty slots form a list threaded through the slots themselves.
    next_free: u32,
    entry: Option<T>,
}

/// Ends the list of empty slots. (Never a slot's index: see
/// `RESERVED_INDEX`.)
const NO_SLOT: u32 = RESERVED_INDEX;

/// O(1) insert, lookup and remove; freed slots are reused, so a
/// long-running loop does not grow without bound.
///
/// The empty slots are kept in a list that runs through the slots (each
/// empty slot names the next), not in a `Vec` of indices beside them. The
/// `u32` fits in padding that `Slot` already has, so it costs no memory,
/// and removing never allocates. (A side `Vec` of free indices had to
/// grow while tasks were finishing: claiming 10,000 finished tasks' outputs
/// in a row, its reallocations were 29% of the instructions, and it made
/// spawning and awaiting a task cost 11% more instructions.)
pub(crate) struct Slab<T> {
    slots: Vec<Slot<T>>,
    /// The most recently emptied slot, or [`NO_SLOT`].
    first_free: u32,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            first_free: NO_SLOT,
            len: 0,
        }
    }
}

impl<T> Slab<T> {
    /// Stores the entry that `make` builds. `make` is given the entry's key
    /// first, because some entries (a task's waker) must carry it.
    pub(crate) fn insert(&mut self, make: impl FnOnce(Key) -> T) -> Key {
        let index = if self.first_free != NO_SLOT {
            let index = self.first_free;
            self.first_free = self.slots[index as usize].next_free;
            index
        } else {
            let index = u32::try_from(self.slots.len())
                .ok()
                .filter(|&index| index != RESERVED_INDEX)
                .expect("a slab holds at most 2^32 - 1 entries");
            self.slots.push(Slot {
                generation: 0,
                next_free: NO_SLOT,
                entry: None,
            });
            index
        };
        let slot = &mut self.slots[index as usize];
        let key = Key {
            index,
            generation: slot.generation,
        };
        slot.entry = Some(make(key));
        self.len += 1;
        key
    }

    fn slot(&self, key: Key) -> Option<&Slot<T>> {
        self.slots
            .get(key.index as usize)
            .filter(|slot| slot.generation == key.generation)
    }

    pub(crate) fn get(&self, key: Key) -> Option<&T> {
        self.slot(key)?.entry.as_ref()
    }

    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        slot.entry.as_mut()
    }

    /// Takes the entry out and retires its key. Callers drop what they get
    /// *after* releasing any borrow of the slab: dropping a task's future
    /// runs user code, which may reach back into the table.
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        let entry = slot.entry.take()?;
        // Wrapping is fine: a stale key would have to survive 2^32 reuses
        // of one slot to be mistaken for a live one.
        slot.generation = slot.generation.wrapping_add(1);
        slot.next_free = self.first_free;
        self.first_free = key.index;
        self.len -= 1;
        Some(entry)
    }

    /// Removes every entry (for shutdown), leaving the slab empty.
    pub(crate) fn drain(&mut self) -> Vec<T> {
        let mut entries = Vec::with_capacity(self.len);
        for index in 0..self.slots.len() {
            let key = Key {
                index: index as u32,
                generation: self.slots[index].generation,
            };
            entries.extend(self.remove(key));
        }
        entries
    }

    /// Every entry, with its key, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Key, &T)> {
        self.slots.iter().enumerate().filter_map(|(index, slot)| {
            let key = Key {
                index: index as u32,
                generation: slot.generation,
            };
            slot.entry.as_ref().map(|entry| (key, entry))
        })
    }

    /// How many entries the slab holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_entrys_key_never_reaches_the_slots_next_occupant() {
        let mut slab = Slab::default();
        let old = slab.insert(|_| "old");
        assert_eq!(slab.remove(old), Some("old"));
        let new = slab.insert(|_| "new");
        assert_eq!(Key::from_usize(new.to_usize()), new);
        assert_ne!(old, new, "the slot is reused under a new generation");
        assert_eq!(slab.get(old), None);
        assert_eq!(slab.remove(old), None);
        assert_eq!(slab.get(new), Some(&"new"));
    }

    #[test]
    fn every_freed_slot_is_reused_before_the_slab_grows() {
        let mut slab = Slab::default();
        let keys: Vec<Key> = (0..5).map(|n| slab.insert(|_| n)).collect();
        for &key in &keys[1..4] {
            slab.remove(key);
        }
        // The three freed slots come back, the last freed first.
        let again: Vec<u32> = (0..3).map(|n| slab.insert(|_| 10 + n).index).collect();
        assert_eq!(again, [3, 2, 1]);
        assert_eq!(slab.slots.len(), 5, "no new slot while one was free");
        assert_eq!(slab.insert(|_| 20).index, 5);
        assert_eq!(slab.len(), 6);
    }

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn the_free_list_fits_in_padding() {
        use crate::event_loop::task::Task;
        // A task is 64 bytes; its slot, generation and list link included, 72:
        // the link sits in what was padding. (This pins the compiler's
        // layout of `Slot`; if it fails, check what the link now costs.)
        assert_eq!(std::mem::size_of::<Slot<Task>>(), 72);
    }

    #[test]
    fn reserved_keys_match_nothing() {
        let mut slab = Slab::default();
        slab.insert(|_| 1);
        assert_eq!(slab.get(Key::reserved(0)), None);
    }
}
