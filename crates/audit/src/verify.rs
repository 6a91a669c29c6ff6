//! The walk of `madoguchi audit verify`: events in sequence order, and the checkpoints.
//!
//! Each event's stored hash must be the link of the previous stored hash and the event's
//! content ([`crate::link`]); sequence numbers must follow each other from 1. A break is
//! named and the walk goes on from the stored hash, so one changed event is one finding, not
//! a cascade. Each checkpoint (already opened with the verifying key) must name the stored
//! head at its size: a chain rewritten after a change — every hash recomputed — or cut short
//! disagrees with the checkpoints signed before.

use std::collections::BTreeMap;
use std::fmt;

use crate::chain::{EventContent, GENESIS, Hash, link_with};
use crate::checkpoint::Checkpoint;

/// Something wrong with the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The event's content or position does not match its hash: changed, or moved there.
    Changed { seq: i64 },
    /// Events `first..=last` are missing.
    Removed { first: i64, last: i64 },
    /// The event follows a gap: its link to the missing one cannot be checked.
    AfterGap { seq: i64 },
    /// The checkpoint of `size` events names another head than the log has.
    CheckpointDisagrees { size: u64 },
    /// The checkpoint of `size` events is beyond the log's end: its tail was cut.
    Truncated { size: u64, events: u64 },
    /// A checkpoint kept by the server did not open with the verifying key.
    CheckpointUnsigned { size: u64, reason: String },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Changed { seq } => write!(
                f,
                "event #{seq} was changed or moved: its content does not match its place in the chain"
            ),
            Finding::Removed { first, last } if first == last => {
                write!(f, "event #{first} was removed")
            }
            Finding::Removed { first, last } => {
                write!(f, "events #{first} to #{last} were removed")
            }
            Finding::AfterGap { seq } => write!(
                f,
                "event #{seq} follows removed events: its link cannot be checked"
            ),
            Finding::CheckpointDisagrees { size } => write!(
                f,
                "the checkpoint of {size} events disagrees: the chain was rewritten before that point"
            ),
            Finding::Truncated { size, events } => write!(
                f,
                "the checkpoint of {size} events is beyond the log's {events}: events were cut from its end"
            ),
            Finding::CheckpointUnsigned { size, reason } => {
                write!(f, "the checkpoint of {size} events is not valid: {reason}")
            }
        }
    }
}

/// A walk in progress.
pub struct Walk {
    next_seq: i64,
    head: Hash,
    events: u64,
    checkpoints: BTreeMap<u64, Hash>,
    findings: Vec<Finding>,
    buffer: Vec<u8>,
}

impl Walk {
    /// A walk that will check these (opened) checkpoints.
    pub fn new(checkpoints: &[Checkpoint]) -> Walk {
        let mut walk = Walk {
            next_seq: 1,
            head: GENESIS,
            events: 0,
            checkpoints: checkpoints.iter().map(|c| (c.size, c.root)).collect(),
            findings: Vec::new(),
            buffer: Vec::with_capacity(512),
        };
        // A checkpoint of the empty log names the genesis hash.
        walk.check_at(0);
        walk
    }

    /// Records a checkpoint that could not be opened.
    pub fn unsigned(&mut self, size: u64, reason: String) {
        self.findings
            .push(Finding::CheckpointUnsigned { size, reason });
    }

    /// The next event in sequence order, with the hash stored beside it.
    pub fn step(&mut self, event: &EventContent<'_>, stored: &[u8]) {
        let mut after_gap = false;
        if event.seq > self.next_seq {
            self.findings.push(Finding::Removed {
                first: self.next_seq,
                last: event.seq - 1,
            });
            after_gap = true;
        } else if event.seq < self.next_seq {
            // Sequence numbers come sorted and unique: this one repeats or goes back.
            self.findings.push(Finding::Changed { seq: event.seq });
        }
        let computed = link_with(&mut self.buffer, &self.head, event);
        if after_gap {
            self.findings.push(Finding::AfterGap { seq: event.seq });
        } else if computed[..] != *stored {
            self.findings.push(Finding::Changed { seq: event.seq });
        }
        // Go on from the stored hash (one change is one finding); an unreadable one is zeros.
        self.head = stored.try_into().unwrap_or(GENESIS);
        self.next_seq = event.seq.max(self.next_seq) + 1;
        self.events += 1;
        self.check_at(self.events);
    }

    /// Compares the checkpoint of `size` events, if there is one, with the head now.
    fn check_at(&mut self, size: u64) {
        if let Some(root) = self.checkpoints.remove(&size)
            && root != self.head
        {
            self.findings.push(Finding::CheckpointDisagrees { size });
        }
    }

    /// Ends the walk: its findings (empty when the log is intact) and the number of events.
    pub fn finish(mut self) -> (Vec<Finding>, u64) {
        for size in self.checkpoints.keys() {
            self.findings.push(Finding::Truncated {
                size: *size,
                events: self.events,
            });
        }
        (self.findings, self.events)
    }

    /// The head after the events walked so far (what a new checkpoint signs).
    pub fn head(&self) -> Hash {
        self.head
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::chain::link;
    use crate::chain::tests::event;

    /// A log of `n` events as stored: (content, hash).
    fn log(n: i64) -> Vec<(EventContent<'static>, Hash)> {
        let mut head = GENESIS;
        (1..=n)
            .map(|seq| {
                let e = event(seq);
                head = link(&head, &e);
                (e, head)
            })
            .collect()
    }

    fn walk(log: &[(EventContent<'_>, Hash)], checkpoints: &[Checkpoint]) -> Vec<Finding> {
        let mut walk = Walk::new(checkpoints);
        for (e, h) in log {
            walk.step(e, h);
        }
        walk.finish().0
    }

    fn checkpoint_of(log: &[(EventContent<'_>, Hash)], size: usize) -> Checkpoint {
        Checkpoint {
            origin: "madoguchi/audit/test".to_owned(),
            size: size as u64,
            root: if size == 0 { GENESIS } else { log[size - 1].1 },
        }
    }

    #[test]
    fn an_intact_log_has_no_finding() {
        let log = log(50);
        let cps = [
            checkpoint_of(&log, 0),
            checkpoint_of(&log, 20),
            checkpoint_of(&log, 50),
        ];
        assert_eq!(walk(&log, &cps), []);
    }

    #[test]
    fn a_changed_event_is_named_alone() {
        let mut log = log(10);
        log[4].0.fields = "family_name"; // #5 read fewer fields, says the log now
        assert_eq!(walk(&log, &[]), [Finding::Changed { seq: 5 }]);
    }

    #[test]
    fn a_removed_event_is_named() {
        let mut log = log(10);
        log.remove(6); // #7
        assert_eq!(
            walk(&log, &[]),
            [
                Finding::Removed { first: 7, last: 7 },
                Finding::AfterGap { seq: 8 }
            ]
        );
    }

    #[test]
    fn two_swapped_events_are_named() {
        let mut log = log(10);
        // Swap the contents of #3 and #4, each keeping its place's sequence number.
        let (a, b) = (log[2].0, log[3].0);
        log[2].0 = EventContent { seq: 3, ..b };
        log[3].0 = EventContent { seq: 4, ..a };
        let findings = walk(&log, &[]);
        assert_eq!(findings.first(), Some(&Finding::Changed { seq: 3 }));
    }

    #[test]
    fn a_rewritten_chain_disagrees_with_its_checkpoints() {
        let original = log(10);
        let cps = [checkpoint_of(&original, 5), checkpoint_of(&original, 10)];
        // Change #3 and recompute every hash after it: the chain is consistent again.
        let mut head = GENESIS;
        let rewritten: Vec<_> = original
            .iter()
            .map(|(e, _)| {
                let e = if e.seq == 3 {
                    EventContent {
                        purpose: None,
                        ..*e
                    }
                } else {
                    *e
                };
                head = link(&head, &e);
                (e, head)
            })
            .collect();
        assert_eq!(
            walk(&rewritten, &[]),
            [],
            "self-consistent without checkpoints"
        );
        assert_eq!(
            walk(&rewritten, &cps),
            [
                Finding::CheckpointDisagrees { size: 5 },
                Finding::CheckpointDisagrees { size: 10 }
            ]
        );
    }

    #[test]
    fn a_cut_tail_is_named_by_a_later_checkpoint() {
        let log = log(10);
        let cps = [checkpoint_of(&log, 10)];
        assert_eq!(
            walk(&log[..8], &cps),
            [Finding::Truncated {
                size: 10,
                events: 8
            }]
        );
    }
}
