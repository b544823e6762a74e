//! Free disk space for uploads: each upload reserves space before it writes, a step at
//! a time as its data arrives, so uploads arriving at once cannot together fill the disk
//! past the margin (`CONTACTS_MIN_FREE_DISK_MB`) that each of them alone would respect,
//! and a slow upload holds no more than a step it has not written.

use std::sync::{Arc, Mutex};

/// Bytes an unprivileged process may still write on the disk that holds `path`.
pub fn free_disk_bytes(path: &std::path::Path) -> std::io::Result<u64> {
    let stats = rustix::fs::statvfs(path)?;
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
}

/// The bytes promised to uploads still arriving and not yet written.
#[derive(Debug, Default)]
pub struct DiskReservations {
    outstanding: Mutex<u64>,
}

impl DiskReservations {
    /// Reserves `bytes` if the disk, with `free` bytes free, keeps `margin` free once
    /// every upload in flight (and this one) has written what it reserved.
    pub fn reserve(self: &Arc<Self>, free: u64, margin: u64, bytes: u64) -> Option<Reservation> {
        let mut reservation = Reservation {
            owner: self.clone(),
            left: 0,
        };
        reservation.grow(free, margin, bytes).then_some(reservation)
    }

    /// Bytes promised and not yet written, across every upload in flight.
    pub fn outstanding(&self) -> u64 {
        *self.outstanding.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn release(&self, bytes: u64) {
        let mut outstanding = self.outstanding.lock().unwrap_or_else(|p| p.into_inner());
        *outstanding = outstanding.saturating_sub(bytes);
    }
}

/// Space promised to one upload; what it has not written goes back when it is dropped.
#[derive(Debug)]
pub struct Reservation {
    owner: Arc<DiskReservations>,
    left: u64,
}

impl Reservation {
    /// Reserves `bytes` more on the same terms as [`DiskReservations::reserve`]; false
    /// (and nothing reserved) if the disk has no room for them.
    pub fn grow(&mut self, free: u64, margin: u64, bytes: u64) -> bool {
        let mut outstanding = self
            .owner
            .outstanding
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let available = free.saturating_sub(*outstanding);
        if available < margin.saturating_add(bytes) {
            return false;
        }
        *outstanding += bytes;
        self.left += bytes;
        true
    }

    /// Bytes reserved and not yet written.
    pub fn left(&self) -> u64 {
        self.left
    }

    /// Notes `bytes` written: they are on the disk now (and in its free space), no
    /// longer a promise.
    pub fn written(&mut self, bytes: u64) {
        let bytes = bytes.min(self.left);
        self.left -= bytes;
        self.owner.release(bytes);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.owner.release(self.left);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_at_once_share_the_free_space() {
        let disk = Arc::new(DiskReservations::default());
        // 10 free, 4 kept free: two uploads of 3 fit, a third does not.
        let mut first = disk.reserve(10, 4, 3).expect("room for one");
        let second = disk.reserve(10, 4, 3).expect("room for two");
        assert!(disk.reserve(10, 4, 3).is_none());
        // The first one writes 2 of its 3: the disk has 8 free, 1 still promised to it.
        first.written(2);
        assert_eq!(disk.outstanding(), 4);
        assert!(disk.reserve(8, 4, 1).is_none());
        drop(second);
        assert_eq!(disk.outstanding(), 1);
        let mut third = disk.reserve(8, 4, 3).expect("room again");
        assert!(!third.grow(8, 4, 1), "no room for a step more");
        assert_eq!(third.left(), 3);
        third.written(3);
        drop(first);
        assert!(third.grow(5, 4, 1), "a step more once the rest is written");
        drop(third);
        assert_eq!(disk.outstanding(), 0);
    }
}
