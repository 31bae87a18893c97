//! Read stage for people: the questions `init` asks, behind a small trait so that tests can
//! script whole sessions. `Terminal` asks through dialoguer on stderr; `Script` replays answers.

use std::collections::VecDeque;

use dialoguer::theme::ColorfulTheme;

use crate::diagnostic::Error;

/// Checks a typed answer; `Err` holds the message shown before asking again.
pub type Check<'a> = &'a dyn Fn(&str) -> Result<(), String>;

/// Something that can ask questions.
pub trait Prompter {
    /// Free text, with a default shown and used on an empty answer.
    fn input(&mut self, prompt: &str, default: &str, check: Check<'_>) -> Result<String, Error>;
    /// Yes or no.
    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool, Error>;
    /// One of `items`.
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<usize, Error>;
    /// Any of `items`.
    fn multi_select(&mut self, prompt: &str, items: &[String]) -> Result<Vec<usize>, Error>;
    /// Shows text between questions.
    fn note(&mut self, text: &str);
}

/// Asks on the terminal.
pub struct Terminal {
    theme: ColorfulTheme,
}

impl Terminal {
    /// A terminal prompter with dialoguer's colorful theme.
    pub fn new() -> Self {
        Terminal {
            theme: ColorfulTheme::default(),
        }
    }
}

impl Default for Terminal {
    fn default() -> Self {
        Self::new()
    }
}

fn interrupted(_: dialoguer::Error) -> Error {
    // Select and MultiSelect hide the cursor while they run; give it back.
    let _ = console::Term::stderr().show_cursor();
    Error::Interrupted
}

impl Prompter for Terminal {
    fn input(&mut self, prompt: &str, default: &str, check: Check<'_>) -> Result<String, Error> {
        let mut input = dialoguer::Input::<String>::with_theme(&self.theme)
            .with_prompt(prompt)
            .allow_empty(true)
            .validate_with(|s: &String| check(s));
        if !default.is_empty() {
            input = input.default(default.to_string());
        }
        input.interact_text().map_err(interrupted)
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool, Error> {
        dialoguer::Confirm::with_theme(&self.theme)
            .with_prompt(prompt)
            .default(default)
            .interact()
            .map_err(interrupted)
    }

    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<usize, Error> {
        dialoguer::Select::with_theme(&self.theme)
            .with_prompt(prompt)
            .items(items)
            .default(default)
            .interact()
            .map_err(interrupted)
    }

    fn multi_select(&mut self, prompt: &str, items: &[String]) -> Result<Vec<usize>, Error> {
        dialoguer::MultiSelect::with_theme(&self.theme)
            .with_prompt(format!("{prompt} (space to pick, enter to go on)"))
            .items(items)
            .interact()
            .map_err(interrupted)
    }

    fn note(&mut self, text: &str) {
        eprintln!("{text}");
    }
}

/// Replays scripted answers, for tests. Each answer is the text a person would type: for
/// `confirm` "y" or "n", for `select` the item, for `multi_select` items separated by ", "
/// (empty for none). An empty answer takes the default. Running out of answers, or an answer
/// the prompt would refuse, ends the session with an error naming the prompt.
pub struct Script {
    answers: VecDeque<String>,
    /// Everything shown, prompts and notes, in order.
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
}

impl Prompter for Script {
    fn input(&mut self, prompt: &str, default: &str, check: Check<'_>) -> Result<String, Error> {
        let answer = self.next(prompt)?;
        let answer = if answer.is_empty() {
            default.to_string()
        } else {
            answer
        };
        check(&answer).map_err(|why| Self::refuse(prompt, &answer, &why))?;
        Ok(answer)
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
        items
            .iter()
            .position(|i| *i == answer)
            .ok_or_else(|| Self::refuse(prompt, &answer, &format!("pick one of {items:?}")))
    }

    fn multi_select(&mut self, prompt: &str, items: &[String]) -> Result<Vec<usize>, Error> {
        let answer = self.next(prompt)?;
        if answer.is_empty() {
            return Ok(Vec::new());
        }
        answer
            .split(", ")
            .map(|pick| {
                items
                    .iter()
                    .position(|i| i == pick)
                    .ok_or_else(|| Self::refuse(prompt, pick, &format!("pick from {items:?}")))
            })
            .collect()
    }

    fn note(&mut self, text: &str) {
        self.transcript.push(text.to_string());
    }
}
