//! Falco/sysdig capture files (`.scap`): the block reader, syscall events with their
//! parameters, the thread and fd state libsinsp derives from them, and the syscall fields
//! Falco's rules read, offered to the rule engine as a [`moat_runtime::field::FieldSource`].
//!
//! ```no_run
//! # fn main() -> Result<(), moat_scap::ScapError> {
//! let mut reader = moat_scap::open(std::path::Path::new("cat_write.scap"))?;
//! let mut state = moat_scap::State::new(reader.metadata());
//! let mut ev = moat_scap::Event::default();
//! while reader.next_event(&mut ev)? {
//!     state.process(&mut ev);
//!     // the engine evaluates rules here: `state` is the field source, `ev` the event
//! }
//! # Ok(()) }
//! ```

pub mod error;
pub mod event;
pub mod event_table;
pub mod fields;
pub mod reader;
pub mod render;
pub mod state;

pub use error::ScapError;
pub use event::{Direction, Event, ParamType};
pub use fields::{ArgSel, Field};
pub use reader::{Metadata, Reader, from_bytes, open};
pub use state::{FdInfo, State, Thread};
