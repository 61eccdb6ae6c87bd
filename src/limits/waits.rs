//! Caps on what a TV holds open: event streams and long polls, per device token and per
//! address prefix, so one client (or one stolen token) cannot hold the server's connections.

use std::{net::IpAddr, sync::Arc, time::Duration};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{family::Family, gauge::Gauge},
    registry::Registry,
};

use super::{address_key, site_key, Held, OpenCounts};

/// Open waits one device token may hold: a stream and a poll, with room for a reconnect.
pub const PER_DEVICE: usize = 4;
/// Open waits one address prefix may hold (a household, or a hotel behind one address).
pub const PER_ADDRESS: usize = 256;
/// Open waits one IPv4 /24 or IPv6 /48 may hold, however many addresses it rotates through.
pub const PER_SITE: usize = 1024;
/// What a refused wait needs (jittered before the TV hears it): streams end and reconnect within
/// seconds.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// The key of the node's own count.
const NODE: &str = "node";

/// How a TV waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// An event stream (`/events`).
    EventStream,
    /// A status request with `?wait=N`.
    LongPoll,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WaitLabels {
    wait: &'static str,
}

impl From<Wait> for WaitLabels {
    fn from(wait: Wait) -> Self {
        Self {
            wait: match wait {
                Wait::EventStream => "event_stream",
                Wait::LongPoll => "long_poll",
            },
        }
    }
}

/// Open waits by device, address prefix and site, and on this node; a [`WaitSlot`] gives its
/// place back when dropped.
#[derive(Debug)]
pub struct WaitSlots {
    open: Arc<OpenCounts>,
    per_node: usize,
    waiting: Family<WaitLabels, Gauge>,
}

/// One open wait; dropping it frees its place.
#[derive(Debug)]
pub struct WaitSlot {
    _held: Held,
    gauge: Gauge,
}

impl WaitSlots {
    /// Slots for a node serving `max_connections` at once: waits may hold half of them, so the
    /// other half always serves everything else (the balancer's health checks among them).
    pub fn for_connections(max_connections: usize) -> Self {
        Self {
            open: Arc::default(),
            per_node: (max_connections / 2).max(1),
            waiting: Family::default(),
        }
    }

    /// Takes a place for a wait of `device` from `ip`, or says how long to wait when the
    /// device, the address prefix, its site or the node is at its cap.
    pub fn take(&self, device: &str, ip: IpAddr, wait: Wait) -> Result<WaitSlot, Duration> {
        let held = self
            .open
            .take(vec![
                (format!("device:{device}"), PER_DEVICE),
                (format!("addr:{}", address_key(ip)), PER_ADDRESS),
                (format!("site:{}", site_key(ip)), PER_SITE),
                (NODE.to_owned(), self.per_node),
            ])
            .ok_or(RETRY_AFTER)?;
        let gauge = self.waiting.get_or_create(&wait.into()).clone();
        gauge.inc();
        Ok(WaitSlot { _held: held, gauge })
    }

    /// Waits open on this node (event streams and long polls together).
    pub fn held(&self) -> usize {
        self.open.count(NODE)
    }

    /// Adds `tve_waiting_tvs`, by `wait`, to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tve_waiting_tvs",
            "TVs waiting on an activation, by how they wait",
            self.waiting.clone(),
        );
    }
}

impl Drop for WaitSlot {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A node whose waits are not capped before the prefixes' caps.
    fn roomy() -> WaitSlots {
        WaitSlots::for_connections(16_384)
    }

    /// `count` waits, each of its own device, from the addresses `address(n)` gives.
    fn fill(slots: &WaitSlots, count: usize, address: impl Fn(usize) -> IpAddr) -> Vec<WaitSlot> {
        (0..count)
            .map(|n| {
                slots
                    .take(&format!("tv-{n}"), address(n), Wait::EventStream)
                    .expect("free")
            })
            .collect()
    }

    #[test]
    fn a_device_holds_at_most_its_cap_and_gets_places_back() {
        let slots = roomy();
        let ip: IpAddr = [203, 0, 113, 9].into();
        let held: Vec<WaitSlot> = (0..PER_DEVICE)
            .map(|_| slots.take("tv-1", ip, Wait::LongPoll).expect("free"))
            .collect();
        assert!(slots.take("tv-1", ip, Wait::LongPoll).is_err());
        let other = slots.take("tv-2", ip, Wait::LongPoll);
        assert!(other.is_ok(), "another device may");
        drop((held, other));
        assert_eq!(slots.open.count("device:tv-1"), 0);
        assert_eq!(slots.open.keys(), 0, "no key left behind");
        assert!(slots.take("tv-1", ip, Wait::LongPoll).is_ok());
    }

    #[test]
    fn an_address_holds_at_most_its_cap() {
        let slots = roomy();
        let ip: IpAddr = [203, 0, 113, 9].into();
        let _held = fill(&slots, PER_ADDRESS, |_| ip);
        assert!(slots.take("tv-new", ip, Wait::EventStream).is_err());
        assert!(slots
            .take("tv-new", [203, 0, 113, 10].into(), Wait::EventStream)
            .is_ok());
    }

    /// Security review, finding 10: the /64s of one IPv6 /48 (or the addresses of one IPv4 /24)
    /// share one cap, so rotating through them does not pin the node.
    #[test]
    fn a_site_holds_at_most_its_cap_whatever_its_addresses() {
        let slots = roomy();
        let sixty_fours = |n: usize| {
            let net = u16::try_from(n / PER_DEVICE).expect("small");
            IpAddr::from([0x2001, 0xdb8, 1, net, 0, 0, 0, 1])
        };
        let _v6 = fill(&slots, PER_SITE, sixty_fours);
        let next = IpAddr::from([0x2001, 0xdb8, 1, 0xffff, 0, 0, 0, 1]);
        assert!(slots.take("tv-new", next, Wait::EventStream).is_err());
        let other_site = IpAddr::from([0x2001, 0xdb8, 2, 0, 0, 0, 0, 1]);
        assert!(slots.take("tv-new", other_site, Wait::EventStream).is_ok());

        let addresses =
            |n: usize| IpAddr::from([198, 51, 100, u8::try_from(n % 256).expect("byte")]);
        let _v4 = fill(&slots, PER_SITE, addresses);
        assert!(slots
            .take("tv-new", [198, 51, 100, 7].into(), Wait::LongPoll)
            .is_err());
        assert!(slots
            .take("tv-new", [198, 51, 101, 7].into(), Wait::LongPoll)
            .is_ok());
    }

    /// Security review, finding 10: waits from many sites hold at most half of the node's
    /// connections.
    #[test]
    fn a_node_holds_waits_on_at_most_half_its_connections() {
        let slots = WaitSlots::for_connections(16);
        let sites = |n: usize| {
            IpAddr::from([
                0x2001,
                0xdb8,
                u16::try_from(n).expect("small"),
                0,
                0,
                0,
                0,
                1,
            ])
        };
        let held = fill(&slots, 8, sites);
        assert_eq!(slots.held(), 8);
        assert!(slots.take("tv-new", sites(99), Wait::EventStream).is_err());
        drop(held);
        assert!(slots.take("tv-new", sites(99), Wait::EventStream).is_ok());
    }
}
