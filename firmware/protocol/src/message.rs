//! What the dock (host) and a validator say to each other.
//!
//! One docking, host-led:
//!
//! 1. host `Hi { host_nonce }` → validator `Hello` (who, what it holds, its
//!    clock, its nonce).
//! 2. host `ReadFrom { seq }` → validator `Batch` … `Batch { last: true }`.
//! 3. the host stores the records durably, then `Ack { up_to }` → `Done`;
//!    only now may the validator free that log space.
//! 4. host `SetTime`, `PutSettings`, `PutBlocklist` (chunked) → `Done` each.
//!
//! Anything the validator cannot do is answered with `Error`.

use serde::{Deserialize, Serialize};

/// Most tap records in one batch: 32 × 29 = 928 bytes of records, so a
/// frame stays under 1 KiB and the framing costs about 2%.
pub const MAX_BATCH_RECORDS: usize = 32;

/// Most card numbers in one blocklist chunk (4 bytes each, little-endian,
/// ascending).
pub const MAX_BLOCKLIST_CHUNK: usize = 200;

/// Most routes a vehicle's settings list.
pub const MAX_ROUTES: usize = 8;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message<'a> {
    /// host → validator: open a session.
    Hi { host_nonce: u32 },
    /// validator → host: who it is and what it holds.
    Hello(Hello),
    /// host → validator: send every record from `seq` on.
    ReadFrom { seq: u32 },
    /// validator → host: packed tap records ([`crate::TapRecord`]).
    Batch(#[serde(borrow)] Batch<'a>),
    /// host → validator: records up to and including `up_to` are stored
    /// durably on the host; free them.
    Ack { up_to: u32 },
    /// host → validator: the clock, UTC seconds.
    SetTime { utc: u32 },
    /// host → validator: one chunk of a new blocklist.
    PutBlocklist(#[serde(borrow)] BlocklistChunk<'a>),
    /// host → validator: what this vehicle does.
    PutSettings(Settings),
    /// validator → host: the command was carried out.
    Done(Done),
    /// either way: the command could not be carried out.
    Error(ErrorFrame),
}

impl Message<'_> {
    /// A name for messages and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Message::Hi { .. } => "hi",
            Message::Hello(_) => "hello",
            Message::ReadFrom { .. } => "read-from",
            Message::Batch(_) => "batch",
            Message::Ack { .. } => "ack",
            Message::SetTime { .. } => "set-time",
            Message::PutBlocklist(_) => "put-blocklist",
            Message::PutSettings(_) => "put-settings",
            Message::Done(_) => "done",
            Message::Error(_) => "error",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The newest protocol version the validator speaks.
    pub protocol: u8,
    pub validator: u16,
    pub firmware: [u8; 3],
    /// The validator's clock, UTC seconds; 0 when it was never set.
    pub clock: u32,
    /// The oldest record still held (not yet acknowledged and freed).
    pub oldest: u32,
    /// The next sequence number the validator will use; `newest + 1`.
    pub next: u32,
    /// Everything below this the host has acknowledged.
    pub acked_below: u32,
    /// Records the log can still take before it must be docked.
    pub free_records: u32,
    pub blocklist_version: u32,
    pub settings_version: u32,
    /// The validator's half of this session's nonce.
    pub validator_nonce: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch<'a> {
    /// Whole records, [`crate::RECORD_LEN`] bytes each.
    #[serde(borrow)]
    pub records: &'a [u8],
    /// No more records after these (for this `ReadFrom`).
    pub last: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlocklistChunk<'a> {
    /// The list's version; a validator keeps the newest whole one.
    pub version: u32,
    /// 0-based chunk number; chunks come in order.
    pub chunk: u16,
    pub chunks: u16,
    /// Card numbers in the whole list.
    pub total: u32,
    /// Card numbers, u32 little-endian, ascending across all chunks.
    #[serde(borrow)]
    pub cards: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Increases with every change on the host.
    pub version: u32,
    pub vehicle: u16,
    pub carrier: u16,
    /// The route the driver selected (P15); one of `routes`.
    pub route: u16,
    pub routes: [u16; MAX_ROUTES],
    pub zone: u8,
    /// The repeat-tap timeout in seconds (P13: 900).
    pub timeout_s: u16,
    /// Minutes east of UTC for the card's validity dates (Kyiv: 120 or
    /// 180); the host sends the current one at each docking.
    pub utc_offset_min: i16,
}

/// What a `Done` confirms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Done {
    /// Everything up to and including this sequence number is freed.
    Acked {
        up_to: u32,
    },
    TimeSet {
        utc: u32,
    },
    /// A chunk was taken; `active` when it was the last and the list is now
    /// in force.
    Blocklist {
        version: u32,
        chunk: u16,
        active: bool,
    },
    Settings {
        version: u32,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorFrame {
    pub code: ErrorCode,
    /// A number that says more: the version spoken, the sequence expected…
    pub detail: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorCode {
    /// The peer speaks another protocol version; `detail` is ours.
    Version,
    /// The frame's MAC is wrong: wrong key, or a forged or edited frame.
    Mac,
    /// The frame could not be decoded.
    Malformed,
    /// The command needs `Hi` first.
    NoSession,
    /// An ack beyond the newest record; `detail` is the next sequence.
    AckAhead,
    /// A blocklist chunk out of order; `detail` is the chunk expected.
    ChunkOrder,
    /// The blocklist is not ascending or its count is wrong.
    BlocklistInvalid,
    /// The blocklist is larger than this validator can hold; `detail` is
    /// its capacity.
    BlocklistTooLarge,
    /// The settings make no sense (route not listed, zero timeout…).
    SettingsInvalid,
    /// Flash failed; `detail` is the flash error's code.
    Storage,
    /// A message only the other side sends.
    Unexpected,
}

impl ErrorCode {
    pub fn describe(self) -> &'static str {
        match self {
            ErrorCode::Version => "the other side speaks another protocol version",
            ErrorCode::Mac => "the frame's MAC is wrong (wrong key, or a forged or edited frame)",
            ErrorCode::Malformed => "the frame could not be decoded",
            ErrorCode::NoSession => "the command came before Hi",
            ErrorCode::AckAhead => "the ack is beyond the newest record",
            ErrorCode::ChunkOrder => "a blocklist chunk came out of order",
            ErrorCode::BlocklistInvalid => "the blocklist is not ascending or its count is wrong",
            ErrorCode::BlocklistTooLarge => "the blocklist is larger than the validator can hold",
            ErrorCode::SettingsInvalid => "the settings are invalid",
            ErrorCode::Storage => "the validator's flash failed",
            ErrorCode::Unexpected => "a message only the other side sends",
        }
    }
}
