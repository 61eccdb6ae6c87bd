//! Support codes (issue 23): every error a viewer sees carries a short code, easy to read
//! aloud, that maps to the request, this node and the device. The mapping lives here only: one
//! structured log line per code ([`SupportCase::record`]), so an operator can grep for it.

mod case;
mod code;
mod layer;
mod node;

pub use case::{SupportCase, SupportRecord};
pub use code::{SupportCode, ALPHABET, PATTERN};
pub use layer::{support_cases, Issued};
pub use node::node_name;
