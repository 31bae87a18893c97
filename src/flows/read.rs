//! Read stage of flows: files (or standard input) → records, handed one at a time to a sink so
//! that nothing grows with the length of the input. The format is detected from the content of
//! each file: a JSON array is an Otterize export (its items are `ClientIntents`) or a JSON
//! table; JSON lines are Hubble flows or table rows; anything else is a CSV table with a header.
//! Files of one record a line are read in chunks of lines on every core, each worker into a
//! sink of its own; the sinks are merged, and the first bad line in the file's order is the one
//! reported.
//!
//! Only regular files are read (a FIFO or a folder is refused before it is opened; standard
//! input is `-`). A line longer than [`MAX_LINE`] bytes, a line that is not UTF-8, and a record
//! that is not of the file's format are bad lines: an error naming the file and the line, or,
//! with `skip_bad`, counted and passed over. Hubble's notices of lost events are counted too:
//! they mean the flows are incomplete.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::{At, Format, Items, Record, hubble, otterize, table};
use crate::diagnostic::Error;

/// The longest line read; a longer one is a bad line.
pub const MAX_LINE: usize = 1 << 20;

/// The largest JSON array (an Otterize export or a JSON table) read as a whole.
pub const MAX_DOCUMENT: u64 = 64 << 20;

/// How standard input is named in messages.
pub const STDIN: &str = "<stdin>";

/// What reading found besides the records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// The files read, as given (`<stdin>` for `-`), each with its format.
    pub files: Vec<(PathBuf, Format)>,
    /// Records read.
    pub records: u64,
    /// Bad lines passed over (`skip_bad`), with the first of them.
    pub bad: u64,
    /// The first bad line passed over and what was wrong with it.
    pub first_bad: Option<(At, String)>,
    /// Events Hubble says it lost.
    pub lost: u64,
    /// Lines that hold another kind of Hubble response (a node's status).
    pub other: u64,
}

impl Reading {
    /// Adds what a later part of the same input found (the first bad line stays the first).
    fn absorb(&mut self, part: Reading) {
        self.records += part.records;
        self.bad += part.bad;
        self.lost += part.lost;
        self.other += part.other;
        if let Some((at, why)) = part.first_bad
            && self.first_bad.as_ref().is_none_or(|(first, _)| at < *first)
        {
            self.first_bad = Some((at, why));
        }
    }
}

/// What the records are handed to. Lines are read on several threads, each into a sink of its
/// own, and the sinks are merged: merging must give the same result in any order (counts
/// add up, the earliest place and time win).
pub trait Sink: Send + Sized {
    /// Takes one record, read at `at`.
    fn add(&mut self, at: At, record: Record);
    /// Takes in what another sink was handed.
    fn merge(&mut self, other: Self);
}

/// Text from the input for a message: escaped, and cut after 60 characters.
fn short(text: &str) -> String {
    let mut out: String = text.chars().take(60).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    crate::text::clean(&out)
}

/// A bad line: exit 2, or counted.
fn bad(
    reading: &mut Reading,
    skip_bad: bool,
    path: &Path,
    at: At,
    why: String,
) -> Result<(), Error> {
    if skip_bad {
        reading.bad += 1;
        if reading.first_bad.is_none() {
            reading.first_bad = Some((at, why));
        }
        return Ok(());
    }
    Err(Error::usage(
        format!(
            "{}:{}: {}",
            crate::text::shown(path),
            at.line,
            crate::text::clean(&why)
        ),
        "fix or remove the line, or give --skip-bad to count bad lines and read the rest",
    ))
}

/// Hands the records of one line to `sink`, or passes the bad line to [`bad`].
fn deliver(
    parsed: Result<Vec<Record>, String>,
    at: At,
    path: &Path,
    skip_bad: bool,
    reading: &mut Reading,
    sink: &mut impl Sink,
) -> Result<(), Error> {
    match parsed {
        Ok(records) => {
            for r in records {
                reading.records += 1;
                sink.add(at, r);
            }
            Ok(())
        }
        Err(why) => bad(reading, skip_bad, path, at, why),
    }
}

/// Opens a path given on the command line: a regular file, or `-` for `stdin`.
fn open<'s>(path: &Path, stdin: &'s mut dyn Read) -> Result<Box<dyn Read + 's>, Error> {
    if path == Path::new("-") {
        return Ok(Box::new(stdin));
    }
    let io = |source| Error::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Err(Error::usage(
            format!("{} is a folder, not a flow file", crate::text::shown(path)),
            "--flows takes every path after it: give manifest paths before it (`verify k8s/ --flows flows.json`), and flow files after it",
        ));
    }
    if !meta.is_file() {
        return Err(Error::usage(
            format!(
                "{} is not a regular file (a FIFO, socket or device)",
                crate::text::shown(path)
            ),
            "give flow files (`hubble observe -o jsonpb > flows.json`, an Otterize export, a CSV table), or `-` for standard input",
        ));
    }
    std::fs::File::open(path)
        .map(|f| Box::new(f) as Box<dyn Read>)
        .map_err(io)
}

/// Consumes the rest of a line too long to keep, up to and with its end.
fn skip_line(reader: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(());
        }
        match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(());
            }
            None => {
                let len = chunk.len();
                reader.consume(len);
            }
        }
    }
}

/// Reads every path in order, handing each record with where it was read to a sink made by
/// `new`: what reading found, and the sink that holds every record.
pub fn read<S: Sink>(
    paths: &[PathBuf],
    stdin: &mut dyn Read,
    skip_bad: bool,
    new: &(dyn Fn() -> S + Sync),
) -> Result<(Reading, S), Error> {
    let mut sink = new();
    let mut reading = Reading::default();
    let mut stdin_read = false;
    for path in paths {
        let is_stdin = path == Path::new("-");
        if is_stdin && stdin_read {
            continue;
        }
        stdin_read |= is_stdin;
        let shown = if is_stdin {
            PathBuf::from(STDIN)
        } else {
            path.clone()
        };
        let file = reading.files.len();
        let mut reader = BufReader::with_capacity(256 * 1024, open(path, stdin)?);
        let io = |source| Error::Io {
            action: "read",
            path: shown.clone(),
            source,
        };
        let format = detect(&mut reader).map_err(io)?;
        reading.files.push((shown.clone(), format));
        let before = reading.records;
        match format {
            Format::Otterize | Format::JsonTable
                if peek(&mut reader).map_err(io)? == Some(b'[') =>
            {
                let text = whole(&mut reader, &shown)?;
                document(
                    &text,
                    format,
                    file,
                    &shown,
                    skip_bad,
                    &mut reading,
                    &mut sink,
                )?;
            }
            Format::Csv => csv(reader, file, &shown, skip_bad, &mut reading, &mut sink)?,
            _ => {
                let input = Input {
                    format,
                    file,
                    path: &shown,
                    skip_bad,
                };
                lines(reader, &input, &mut reading, &mut sink, new)?;
            }
        }
        if reading.records == before && reading.bad == 0 {
            return Err(Error::usage(
                format!(
                    "{} holds no flow record ({})",
                    crate::text::shown(&shown),
                    format.title()
                ),
                "give the output of `hubble observe -o jsonpb`, an Otterize export or a table with a header and at least one row",
            ));
        }
    }
    Ok((reading, sink))
}

/// The first byte that is not white space (or a byte order mark), without consuming it.
fn peek(reader: &mut impl BufRead) -> std::io::Result<Option<u8>> {
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(None);
        }
        if chunk.starts_with("\u{feff}".as_bytes()) {
            reader.consume(3);
            continue;
        }
        match chunk.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let b = chunk[i];
                reader.consume(i);
                return Ok(Some(b));
            }
            None => {
                let len = chunk.len();
                reader.consume(len);
            }
        }
    }
}

/// The format of a file, from its first bytes.
fn detect(reader: &mut impl BufRead) -> std::io::Result<Format> {
    let first = peek(reader)?;
    let head = reader.fill_buf()?;
    let head = &head[..head.len().min(64 * 1024)];
    let text = String::from_utf8_lossy(head);
    Ok(match first {
        Some(b'[') => {
            if text.contains("\"ClientIntents\"") {
                Format::Otterize
            } else {
                Format::JsonTable
            }
        }
        Some(b'{') => {
            let line = text.lines().next().unwrap_or("");
            if serde_json::from_str::<table::Row>(line).is_ok() {
                Format::JsonTable
            } else {
                Format::Hubble
            }
        }
        _ => Format::Csv,
    })
}

fn whole(reader: &mut impl BufRead, path: &Path) -> Result<String, Error> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_DOCUMENT + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > MAX_DOCUMENT {
        return Err(Error::usage(
            format!(
                "{} is a JSON array larger than {} MiB",
                crate::text::shown(path),
                MAX_DOCUMENT >> 20
            ),
            "give a large table as CSV or as one JSON object a line, which are read line by line",
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        Error::usage(
            format!(
                "{} is not UTF-8 (at byte {})",
                crate::text::shown(path),
                e.utf8_error().valid_up_to()
            ),
            "save the file as UTF-8",
        )
    })
}

fn document(
    text: &str,
    format: Format,
    file: usize,
    path: &Path,
    skip_bad: bool,
    reading: &mut Reading,
    sink: &mut impl Sink,
) -> Result<(), Error> {
    let items: Items = if format == Format::Otterize {
        otterize::parse(text)
    } else {
        table_array(text)
    }
    .map_err(|why| {
        Error::usage(
            format!("{}: {}", crate::text::shown(path), crate::text::clean(&why)),
            "give the JSON as the tool printed it",
        )
    })?;
    for (line, item) in items {
        deliver(item, At { file, line }, path, skip_bad, reading, sink)?;
    }
    Ok(())
}

/// The rows of a JSON table given as an array, each with its line.
fn table_array(text: &str) -> Result<Items, String> {
    Ok(super::json_items(text)?
        .into_iter()
        .map(|(line, raw)| (line, table::json_row(raw)))
        .collect())
}

/// A file read line by line: its format, its index among the inputs, its name, and whether
/// bad lines are counted instead of stopping the run.
struct Input<'p> {
    format: Format,
    file: usize,
    path: &'p Path,
    skip_bad: bool,
}

/// Lines handed to a worker: the number of the first, and the lines, each ended by `\n`; a
/// line too long to keep whole is left empty and its number listed in `too_long`.
struct Chunk {
    index: usize,
    first_line: usize,
    text: Vec<u8>,
    too_long: Vec<usize>,
}

/// About this many bytes of lines go to a worker at a time.
const CHUNK: usize = 1 << 20;

/// What a worker found in one chunk: what reading found, and the first bad line when bad lines
/// stop the run.
struct Part {
    index: usize,
    reading: Reading,
    error: Option<(At, String)>,
}

/// The records of one line, or why it is bad; notices of lost events and other responses are
/// counted in `part`.
fn line_records(
    text: &str,
    format: Format,
    part: &mut Reading,
    cache: &mut hubble::Cache,
) -> Result<Vec<Record>, String> {
    match format {
        Format::Hubble => hubble::parse(text, cache).map(|l| match l {
            hubble::Line::Flow(r) => vec![*r],
            hubble::Line::Lost(n) => {
                part.lost += n.max(1);
                Vec::new()
            }
            hubble::Line::Other => {
                part.other += 1;
                Vec::new()
            }
        }),
        _ => table::json_row(text),
    }
}

/// Reads the lines of one chunk into `sink`: a bad line is counted (`skip_bad`) or ends the
/// chunk as its error.
fn chunk_records(
    chunk: &Chunk,
    input: &Input<'_>,
    sink: &mut impl Sink,
    cache: &mut hubble::Cache,
) -> Part {
    let mut part = Part {
        index: chunk.index,
        reading: Reading::default(),
        error: None,
    };
    let body = chunk.text.strip_suffix(b"\n").unwrap_or(&chunk.text);
    let mut one = |k: usize, line: Result<&str, ()>, part: &mut Part| -> bool {
        let at = At {
            file: input.file,
            line: chunk.first_line + k,
        };
        let parsed = match line {
            _ if chunk.too_long.binary_search(&at.line).is_ok() => {
                Err(format!("the line is longer than {} MiB", MAX_LINE >> 20))
            }
            Ok(text) if text.len() > MAX_LINE => {
                Err(format!("the line is longer than {} MiB", MAX_LINE >> 20))
            }
            Err(()) => Err("not UTF-8".to_string()),
            Ok(text) => {
                let text = text.strip_suffix('\r').unwrap_or(text);
                let text = text.trim_start_matches('\u{feff}');
                if text.trim().is_empty() {
                    return true;
                }
                line_records(text, input.format, &mut part.reading, cache)
            }
        };
        match parsed {
            Ok(records) => {
                for r in records {
                    part.reading.records += 1;
                    sink.add(at, r);
                }
                true
            }
            Err(why) if input.skip_bad => {
                part.reading.bad += 1;
                if part.reading.first_bad.is_none() {
                    part.reading.first_bad = Some((at, why));
                }
                true
            }
            Err(why) => {
                part.error = Some((at, why));
                false
            }
        }
    };
    // The whole chunk is checked as UTF-8 at once; only a chunk that is not is checked line
    // by line, to name the line.
    match std::str::from_utf8(body) {
        Ok(text) => {
            // Line ends found with memchr: `str::split` searching for the character cost a
            // twentieth of the run.
            let ends = memchr::memchr_iter(b'\n', body).chain(std::iter::once(body.len()));
            let mut start = 0;
            for (k, end) in ends.enumerate() {
                if !one(k, Ok(&text[start..end]), &mut part) {
                    break;
                }
                start = end + 1;
            }
        }
        Err(_) => {
            for (k, bytes) in body.split(|b| *b == b'\n').enumerate() {
                if !one(k, std::str::from_utf8(bytes).map_err(|_| ()), &mut part) {
                    break;
                }
            }
        }
    }
    part
}

/// Reads a file of one record a line. This thread splits the input into chunks of lines;
/// workers (one per core) parse them, each into a sink of its own, and the sinks are merged into
/// `sink`. At most a few chunks wait at a time, so memory does not grow with the input. The
/// first bad line in the file's order is the one reported, as if it were read alone.
fn lines<S: Sink>(
    mut reader: impl BufRead,
    input: &Input<'_>,
    reading: &mut Reading,
    sink: &mut S,
    new: &(dyn Fn() -> S + Sync),
) -> Result<(), Error> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 8);
    // Chunks after the first one with a bad line that stops the run are not read.
    let stop = std::sync::atomic::AtomicUsize::new(usize::MAX);
    let (send, receive) = std::sync::mpsc::sync_channel::<Chunk>(2 * workers);
    // Each worker holds the receiving end: should every worker stop, sending fails instead of
    // waiting for ever.
    let receive = std::sync::Arc::new(std::sync::Mutex::new(receive));
    let (parts, read_error) = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..workers)
            .map(|_| {
                let receive = std::sync::Arc::clone(&receive);
                let stop = &stop;
                scope.spawn(move || {
                    let mut local = new();
                    let mut cache = hubble::Cache::default();
                    let mut parts = Vec::new();
                    loop {
                        // The lock is held only to take the next chunk.
                        let next = receive
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .recv();
                        let Ok(chunk) = next else { break };
                        if chunk.index > stop.load(std::sync::atomic::Ordering::Relaxed) {
                            continue;
                        }
                        let part = chunk_records(&chunk, input, &mut local, &mut cache);
                        if part.error.is_some() {
                            stop.fetch_min(chunk.index, std::sync::atomic::Ordering::Relaxed);
                        }
                        parts.push(part);
                    }
                    (local, parts)
                })
            })
            .collect();
        drop(receive);
        let read_error = split_chunks(&mut reader, &send, &stop).err();
        drop(send);
        let mut parts = Vec::new();
        for thread in threads {
            let (local, found) = thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            sink.merge(local);
            parts.extend(found);
        }
        (parts, read_error)
    });
    if let Some(source) = read_error {
        return Err(Error::Io {
            action: "read",
            path: input.path.to_path_buf(),
            source,
        });
    }
    let mut parts = parts;
    parts.sort_by_key(|p| p.index);
    for part in parts {
        reading.absorb(part.reading);
        if let Some((at, why)) = part.error {
            return bad(reading, false, input.path, at, why);
        }
    }
    Ok(())
}

/// Splits the input into chunks of whole lines, about [`CHUNK`] bytes each, and sends them,
/// until the end or until a worker has found a bad line that stops the run. A line that grows
/// past [`MAX_LINE`] without ending is skipped to its end and sent empty, named too long.
fn split_chunks(
    reader: &mut impl BufRead,
    send: &std::sync::mpsc::SyncSender<Chunk>,
    stop: &std::sync::atomic::AtomicUsize,
) -> std::io::Result<()> {
    let mut index = 0;
    let mut first_line = 1;
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let mut text = std::mem::take(&mut carry);
        text.reserve(CHUNK + CHUNK / 8);
        let read = reader.by_ref().take(CHUNK as u64).read_to_end(&mut text)?;
        let mut too_long = Vec::new();
        let end = read == 0;
        if end {
            if text.is_empty() {
                return Ok(());
            }
            text.push(b'\n');
        } else {
            match memchr::memrchr(b'\n', &text) {
                Some(last) => carry = text.split_off(last + 1),
                None if text.len() > MAX_LINE => {
                    skip_line(reader)?;
                    text.clear();
                    text.push(b'\n');
                    too_long.push(first_line);
                }
                None => {
                    // Part of a line: read on.
                    carry = text;
                    continue;
                }
            }
        }
        let lines = memchr::memchr_iter(b'\n', &text).count();
        let chunk = Chunk {
            index,
            first_line,
            text,
            too_long,
        };
        if index > stop.load(std::sync::atomic::Ordering::Relaxed) || send.send(chunk).is_err() {
            return Ok(());
        }
        index += 1;
        first_line += lines;
        if end {
            return Ok(());
        }
    }
}

fn csv(
    reader: impl Read,
    file: usize,
    path: &Path,
    skip_bad: bool,
    reading: &mut Reading,
    sink: &mut impl Sink,
) -> Result<(), Error> {
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| {
            Error::usage(
                format!(
                    "{}:1: not a flow table: {}",
                    crate::text::shown(path),
                    crate::text::clean(&e.to_string())
                ),
                "a CSV flow table starts with a header line such as `source,destination,port,protocol`",
            )
        })?
        .clone();
    for h in headers.iter() {
        if !table::COLUMNS.contains(&h) {
            return Err(Error::usage(
                format!(
                    "{}:1: column {:?} is not one of {}",
                    crate::text::shown(path),
                    short(h),
                    table::COLUMNS.join(", ")
                ),
                "rename the column, or remove it",
            ));
        }
    }
    for want in ["source", "destination"] {
        if !headers.iter().any(|h| h == want) {
            return Err(Error::usage(
                format!(
                    "{}:1: the header has no `{want}` column",
                    crate::text::shown(path)
                ),
                "a CSV flow table starts with a header line such as `source,destination,port,protocol`",
            ));
        }
    }
    let mut record = csv::StringRecord::new();
    loop {
        let line = csv.position().line() as usize;
        let at = At {
            file,
            line: line.max(2),
        };
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let at = At {
                    file,
                    line: record.position().map_or(at.line, |p| p.line() as usize),
                };
                if record.len() > MAX_LINE {
                    bad(reading, skip_bad, path, at, "too many fields".to_string())?;
                    continue;
                }
                let parsed = record
                    .deserialize::<table::Row>(Some(&headers))
                    .map_err(|e| format!("not a flow table row: {e}"))
                    .and_then(table::Row::records);
                deliver(parsed, at, path, skip_bad, reading, sink)?;
            }
            Err(e) => {
                let why = crate::text::clean(&e.to_string());
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return Err(Error::usage(
                        format!("cannot read {}: {why}", crate::text::shown(path)),
                        "give a readable file",
                    ));
                }
                bad(reading, skip_bad, path, at, why)?;
                // A broken row leaves the reader at the next one.
            }
        }
    }
    Ok(())
}
