//! Read stage for people: the questions `init` asks, behind a small trait so that tests can
//! script whole sessions. `Terminal` asks through dialoguer on stderr; `Script` replays answers.
//! Nothing here knows what the questions are about.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};

use dialoguer::theme::ColorfulTheme;

use crate::diagnostic::Error;

/// Checks a typed answer; `Err` holds the message shown before asking again.
pub type Check<'a> = &'a dyn Fn(&str) -> Result<(), String>;

/// Something that can ask questions.
pub trait Prompter {
    /// Free text, with a default shown and used on an empty answer. An answer `check` refuses
    /// is asked again, with the reason shown.
    fn input(&mut self, prompt: &str, default: &str, check: Check<'_>) -> Result<String, Error>;
    /// Yes or no.
    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool, Error>;
    /// One of `items`.
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<usize, Error>;
    /// Any of `items`; `picked` says which start out chosen (missing entries: not chosen).
    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
        picked: &[bool],
    ) -> Result<Vec<usize>, Error>;
    /// Shows text between questions.
    fn note(&mut self, text: &str);
}

/// The line `init` leaves with after Ctrl-C.
pub const INTERRUPTED: &str = "init interrupted; nothing was written";

/// True while a `Terminal` may be asking: Ctrl-C then ends the session. Once the answers are
/// in, the file is being written, and stopping half-way would make "nothing was written" a lie.
static ASKING: AtomicBool = AtomicBool::new(false);

/// Set once a prompt answered `Interrupted`: the session is ending with [`INTERRUPTED`], and a
/// SIGINT the handler receives meanwhile must leave that to the thread already on its way out
/// rather than exit before the line is written.
static STOPPED: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C ends a questionnaire now (or has already ended one). The binary's Ctrl-C
/// handler asks: a text prompt reads in cooked mode, where the terminal turns ^C into SIGINT
/// and the read simply restarts, so only the handler can end that session.
pub fn asking() -> bool {
    ASKING.load(Ordering::SeqCst) || STOPPED.load(Ordering::SeqCst)
}

/// Asks on the terminal.
pub struct Terminal {
    theme: ColorfulTheme,
}

impl Terminal {
    /// A terminal prompter, in colour or not. While it lives, [`asking`] is true.
    pub fn new(color: bool) -> Self {
        console::set_colors_enabled_stderr(color);
        ASKING.store(true, Ordering::SeqCst);
        Terminal {
            theme: ColorfulTheme::default(),
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        ASKING.store(false, Ordering::SeqCst);
    }
}

/// A list prompt reads ^C as a key in raw mode and answers `Interrupted`: the session ends
/// like one stopped by the Ctrl-C handler.
fn failed(err: dialoguer::Error) -> Error {
    let dialoguer::Error::IO(source) = err;
    if source.kind() == std::io::ErrorKind::Interrupted {
        STOPPED.store(true, Ordering::SeqCst);
        return Error::Interrupted;
    }
    let _ = console::Term::stderr().show_cursor();
    Error::Io {
        action: "read",
        path: "<terminal>".into(),
        source,
    }
}

/// Room kept on a prompt line for the theme's marks and the answer.
const ANSWER_ROOM: usize = 30;

/// Dialoguer redraws only the last line of a prompt, so one that wraps leaves its first lines
/// behind on the screen. A prompt too long for the terminal is printed above, and the prompt
/// line itself stays short.
fn fit(prompt: &str) -> String {
    let width = console::Term::stderr()
        .size_checked()
        .map_or(0, |(_, cols)| usize::from(cols));
    if width == 0 || console::measure_text_width(prompt) + ANSWER_ROOM <= width {
        return prompt.to_string();
    }
    eprintln!("{}", textwrap::fill(prompt, width - 1));
    "Your answer".to_string()
}

impl Prompter for Terminal {
    fn input(&mut self, prompt: &str, default: &str, check: Check<'_>) -> Result<String, Error> {
        let mut input = dialoguer::Input::<String>::with_theme(&self.theme)
            .with_prompt(fit(prompt))
            .allow_empty(true)
            .validate_with(|s: &String| check(s));
        if !default.is_empty() {
            input = input.default(default.to_string());
        }
        input.interact_text().map_err(failed)
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool, Error> {
        dialoguer::Confirm::with_theme(&self.theme)
            .with_prompt(fit(prompt))
            .default(default)
            .interact()
            .map_err(failed)
    }

    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<usize, Error> {
        dialoguer::Select::with_theme(&self.theme)
            .with_prompt(fit(prompt))
            .items(items)
            .default(default)
            .interact()
            .map_err(failed)
    }

    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
        picked: &[bool],
    ) -> Result<Vec<usize>, Error> {
        let picked: Vec<bool> = (0..items.len())
            .map(|i| picked.get(i).copied().unwrap_or(false))
            .collect();
        dialoguer::MultiSelect::with_theme(&self.theme)
            .with_prompt(fit(&format!("{prompt} (space to pick, enter to go on)")))
            .items(items)
            .defaults(&picked)
            .interact()
            .map_err(failed)
    }

    fn note(&mut self, text: &str) {
        eprintln!("{text}");
    }
}

/// Replays scripted answers, for tests. Each answer is the text a person would type: for
/// `confirm` "y" or "n", for `select` the item or the start of exactly one item, for
/// `multi_select` items separated by ", " ("none" for none). An empty answer takes the default.
/// An answer a check refuses is noted in the transcript and the next answer is tried, as a
/// terminal asks again; running out of answers ends the session as Ctrl-C would.
pub struct Script {
    answers: VecDeque<String>,
    /// Everything shown, prompts, refusals and notes, in order.
    pub transcript: Vec<String>,
}

impl Script {
    /// A script of answers.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(answers: I) -> Self {
        Script {
            answers: answers.into_iter().map(Into::into).collect(),
            transcript: Vec::new(),
        }
    }

    fn next(&mut self, prompt: &str) -> Result<String, Error> {
        self.transcript.push(prompt.to_string());
        self.answers.pop_front().ok_or(Error::Interrupted)
    }

    fn refuse(prompt: &str, answer: &str, why: &str) -> Error {
        Error::usage(
            format!("scripted answer {answer:?} to {prompt:?} was refused"),
            why.to_string(),
        )
    }

    fn pick(prompt: &str, items: &[String], answer: &str) -> Result<usize, Error> {
        if let Some(i) = items.iter().position(|i| i == answer) {
            return Ok(i);
        }
        let starts: Vec<usize> = (0..items.len())
            .filter(|i| items[*i].starts_with(answer))
            .collect();
        match starts[..] {
            [one] => Ok(one),
            _ => Err(Self::refuse(
                prompt,
                answer,
                &format!("pick one of {items:?}"),
            )),
        }
    }
}

impl Prompter for Script {
    fn input(&mut self, prompt: &str, default: &str, check: Check<'_>) -> Result<String, Error> {
        loop {
            let answer = self.next(prompt)?;
            let answer = if answer.is_empty() {
                default.to_string()
            } else {
                answer
            };
            match check(&answer) {
                Ok(()) => return Ok(answer),
                Err(why) => self.transcript.push(format!("refused: {why}")),
            }
        }
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool, Error> {
        match self.next(prompt)?.as_str() {
            "" => Ok(default),
            "y" | "yes" => Ok(true),
            "n" | "no" => Ok(false),
            other => Err(Self::refuse(prompt, other, "answer y or n")),
        }
    }

    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<usize, Error> {
        let answer = self.next(prompt)?;
        if answer.is_empty() {
            return Ok(default);
        }
        Self::pick(prompt, items, &answer)
    }

    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
        picked: &[bool],
    ) -> Result<Vec<usize>, Error> {
        let answer = self.next(prompt)?;
        match answer.as_str() {
            "" => Ok((0..items.len())
                .filter(|i| picked.get(*i).copied().unwrap_or(false))
                .collect()),
            "none" => Ok(Vec::new()),
            _ => answer
                .split(", ")
                .map(|pick| Self::pick(prompt, items, pick))
                .collect(),
        }
    }

    fn note(&mut self, text: &str) {
        self.transcript.push(text.to_string());
    }
}
