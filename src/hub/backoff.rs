//! [`Backoff`]: how long to wait before trying the broker again.

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

/// Doubling delays between `min` and `max`, each shortened by a random part of up to a
/// half, so that the instances and subscribers that lost the broker together do not all
/// come back in the same millisecond.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max,
            next: min,
        }
    }

    /// The delay before the next attempt.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        // A fresh RandomState is seeded per thread and varied per call: enough for jitter.
        let random = RandomState::new().hash_one(delay);
        let jitter = delay.mul_f64((random % 1000) as f64 / 2000.0);
        delay - jitter
    }

    /// Back to the shortest delay, after a success.
    pub(crate) fn reset(&mut self) {
        self.next = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_maximum_with_at_most_half_taken_off() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(800));
        let delays: Vec<Duration> = (0..6).map(|_| backoff.next_delay()).collect();
        for (delay, nominal) in delays.iter().zip([100, 200, 400, 800, 800, 800]) {
            let nominal = Duration::from_millis(nominal);
            assert!(
                *delay <= nominal && *delay >= nominal / 2,
                "{delay:?} for {nominal:?}"
            );
        }
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(100));
    }
}
