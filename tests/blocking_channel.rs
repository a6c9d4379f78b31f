//! Channels on the blocking runtime: capacity, back-pressure, closing,
//! ordering, oneshot, and the error types.
//!
//! No test may hang: any call that a bug could make wait forever runs on a
//! helper thread, watched with `recv_timeout` on a std channel. "Still
//! waiting" is checked as "no word within 50 ms", which can only pass
//! wrongly, never fail wrongly.

mod support;
use support::*;

use duet::blocking::channel::{self, SendError, TrySendError};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

const A_MOMENT: Duration = Duration::from_millis(50);

#[test]
fn bounded_n_holds_exactly_n() {
    for n in [1, 3, 16] {
        let (tx, rx) = channel::bounded(n);
        for i in 0..n {
            tx.try_send(i).unwrap();
        }
        match tx.try_send(99) {
            Err(TrySendError::Full(99)) => {}
            other => panic!("expected Full(99), got {other:?}"),
        }
        assert_eq!(rx.recv(), Some(0));
        tx.try_send(99).unwrap(); // one slot freed, one value fits
    }
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn bounded_zero_panics() {
    let _ = channel::bounded::<u8>(0);
}

#[test]
fn send_waits_while_full_and_goes_when_a_slot_frees() {
    let (tx, rx) = channel::bounded(1);
    tx.send(1).unwrap();
    let (sent_tx, sent_rx) = mpsc::channel();
    thread::spawn(move || sent_tx.send(tx.send(2)));

    assert!(sent_rx.recv_timeout(A_MOMENT).is_err(), "send should wait");
    assert_eq!(rx.recv(), Some(1)); // frees the slot
    assert_eq!(sent_rx.recv_timeout(PATIENCE).unwrap(), Ok(()));
    assert_eq!(rx.recv(), Some(2));
    // `None` only once the sender thread has dropped its sender.
    assert_eq!(within(move || rx.recv()), None, "the sender thread is gone");
}

#[test]
fn send_fails_once_the_receiver_is_gone() {
    let (tx, rx) = channel::bounded(4);
    drop(rx);
    let err = tx.send(5).unwrap_err();
    assert_eq!(err, SendError(5));
    assert_eq!(err.into_inner(), 5);
    match tx.try_send(6) {
        Err(TrySendError::Closed(6)) => {}
        other => panic!("expected Closed(6), got {other:?}"),
    }
    let (tx, rx) = channel::unbounded();
    drop(rx);
    assert_eq!(tx.send("x"), Err(SendError("x")));
}

#[test]
fn a_waiting_sender_is_released_with_err_when_the_receiver_drops() {
    let (tx, rx) = channel::bounded(1);
    tx.send(1).unwrap();
    let (sent_tx, sent_rx) = mpsc::channel();
    thread::spawn(move || sent_tx.send(tx.send(2)));

    assert!(sent_rx.recv_timeout(A_MOMENT).is_err(), "send should wait");
    drop(rx);
    let result = sent_rx
        .recv_timeout(PATIENCE)
        .expect("sender never released");
    assert_eq!(result, Err(SendError(2)));
}

/// Many senders waiting on a full channel when the receiver drops: every
/// one of them fails. The dropping receiver empties its queue, freeing
/// slots, and none of the waiting sends may slip into one and report
/// success to a channel nobody will ever read.
#[test]
fn every_waiting_sender_is_released_with_err_when_the_receiver_drops() {
    for _ in 0..20 {
        let (tx, rx) = channel::bounded(1);
        tx.send(0).unwrap();
        let (sent_tx, sent_rx) = mpsc::channel();
        for i in 1..=8 {
            let (tx, sent_tx) = (tx.clone(), sent_tx.clone());
            thread::spawn(move || sent_tx.send(tx.send(i)));
        }
        assert!(sent_rx.recv_timeout(A_MOMENT).is_err(), "the sends wait");
        drop(rx);
        for _ in 1..=8 {
            let result = sent_rx
                .recv_timeout(PATIENCE)
                .expect("a sender never released");
            assert!(result.is_err(), "a send into a dropped channel succeeded");
        }
    }
}

#[test]
fn recv_gives_none_after_the_last_sender_drops_and_the_queue_drains() {
    let (tx, rx) = channel::unbounded();
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    tx2.send(2).unwrap();
    drop(tx);
    assert_eq!(rx.try_recv(), Some(1));
    drop(tx2);
    assert_eq!(rx.recv(), Some(2), "queued values outlive the senders");
    let (again, once_more, tried) = within(move || (rx.recv(), rx.recv(), rx.try_recv()));
    assert_eq!((again, once_more, tried), (None, None, None));
}

#[test]
fn a_waiting_receiver_wakes_with_none_when_the_last_sender_drops() {
    let (tx, rx) = channel::bounded::<u8>(1);
    let (got_tx, got_rx) = mpsc::channel();
    thread::spawn(move || got_tx.send(rx.recv()));
    assert!(got_rx.recv_timeout(A_MOMENT).is_err(), "recv should wait");
    drop(tx);
    assert_eq!(got_rx.recv_timeout(PATIENCE).unwrap(), None);
}

#[test]
fn try_recv_never_waits() {
    let (tx, rx) = channel::bounded(2);
    assert_eq!(rx.try_recv(), None);
    tx.send('a').unwrap();
    assert_eq!(rx.try_recv(), Some('a'));
    assert_eq!(rx.try_recv(), None);
}

#[test]
fn eight_senders_arrive_in_per_sender_order() {
    const SENDERS: usize = 8;
    const EACH: usize = 10_000;
    // Small capacity, so senders really do wait for the receiver.
    let (tx, rx) = channel::bounded(64);
    for id in 0..SENDERS {
        let tx = tx.clone();
        thread::spawn(move || {
            for seq in 0..EACH {
                tx.send((id, seq)).unwrap();
            }
        });
    }
    drop(tx);
    let next = within(move || {
        let mut next = [0; SENDERS];
        while let Some((id, seq)) = rx.recv() {
            assert_eq!(seq, next[id], "sender {id} out of order");
            next[id] += 1;
        }
        next
    });
    assert_eq!(next, [EACH; SENDERS]);
}

#[test]
fn values_left_in_a_dropped_channel_are_dropped() {
    let value = Arc::new(());
    let (tx, rx) = channel::bounded(4);
    for _ in 0..3 {
        tx.send(Arc::clone(&value)).unwrap();
    }
    assert_eq!(Arc::strong_count(&value), 4);
    drop(rx);
    drop(tx);
    assert_eq!(Arc::strong_count(&value), 1);
}

#[test]
fn sender_clones_without_t_clone() {
    struct NotClone;
    let (tx, rx) = channel::unbounded();
    let tx2 = tx.clone();
    tx2.send(NotClone).unwrap();
    assert!(rx.try_recv().is_some());
}

#[test]
fn oneshot_delivers_one_value_across_threads() {
    let (tx, rx) = channel::oneshot();
    let (ready_tx, ready_rx) = mpsc::channel();
    let got = thread::spawn(move || {
        ready_tx.send(()).unwrap();
        rx.recv()
    });
    ready_rx.recv_timeout(PATIENCE).unwrap();
    tx.send("reply").unwrap();
    assert_eq!(within(move || got.join().unwrap()), Some("reply"));
}

#[test]
fn oneshot_recv_gives_none_if_the_sender_is_dropped() {
    let (tx, rx) = channel::oneshot::<u8>();
    drop(tx);
    assert_eq!(within(move || rx.recv()), None);
}

#[test]
fn oneshot_send_hands_the_value_back_if_the_receiver_is_gone() {
    let (tx, rx) = channel::oneshot();
    drop(rx);
    assert_eq!(tx.send(vec![1, 2]), Err(vec![1, 2]));
}

#[test]
fn errors_work_for_any_t_and_with_question_mark() {
    struct Opaque; // neither Debug nor Clone
    let err = SendError(Opaque);
    assert_eq!(err.to_string(), "sending on a closed channel");
    assert_eq!(format!("{err:?}"), "SendError(..)");
    let full = TrySendError::Full(Opaque);
    assert_eq!(full.to_string(), "sending on a full channel");
    assert_eq!(format!("{full:?}"), "Full(..)");
    let closed = TrySendError::Closed(Opaque);
    assert_eq!(closed.to_string(), "sending on a closed channel");
    assert!(matches!(closed.into_inner(), Opaque));

    fn send_via_question_mark() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let (tx, rx) = channel::unbounded();
        drop(rx);
        tx.send(1u8)?;
        tx.try_send(2u8)?;
        Ok(())
    }
    let err = send_via_question_mark().unwrap_err();
    assert!(err.is::<SendError<u8>>());
}
