//! Robustness of what `generate` and `record` write, against the repository's own content and
//! against a concurrent writer: a symbolic link at every component of the output and record
//! folders, folders swapped for links in a loop while `generate` runs, and runs killed with
//! SIGKILL at random points while a changed verdict supersedes a record. Each case checks that
//! nothing is ever written outside the repository and that the next run leaves the disk as a
//! clean run would.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::support::bin;

/// A small project in one namespace. `version` changes every stub and the record, so that each
/// run has files to write.
fn workspace(version: u32, recommended: bool) -> String {
    let mut text = format!(
        "version = 1\n[project]\nname = \"shop\"\ndescription = \"Version {version}\"\n\
         [answers]\ninfrastructure-control = {recommended}\nhybrid-cloud = {recommended}\n"
    );
    for name in ["web", "api", "db"] {
        text.push_str(&format!(
            "[[services]]\nname = \"{name}\"\nnamespace = \"shop\"\nport = 80\nreplicas = {}\n",
            2 + version % 2
        ));
    }
    text
}

/// A repository (`repo`, with `.git`) and an `outside` folder beside it, in a fresh temporary
/// folder.
struct Scene {
    tmp: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("repo/.git")).unwrap();
        std::fs::create_dir_all(tmp.path().join("outside")).unwrap();
        std::fs::write(tmp.path().join("outside/keep.txt"), "untouched").unwrap();
        let scene = Scene { tmp };
        scene.set(0, true);
        scene
    }

    fn repo(&self) -> PathBuf {
        self.tmp.path().join("repo")
    }

    fn outside(&self) -> PathBuf {
        self.tmp.path().join("outside")
    }

    fn set(&self, version: u32, recommended: bool) {
        std::fs::write(
            self.repo().join("k8s-advisor.toml"),
            workspace(version, recommended),
        )
        .unwrap();
    }

    /// Runs the binary in the repository; exit code and stderr.
    fn run(&self, args: &[&str]) -> (Option<i32>, String) {
        let out = bin()
            .current_dir(self.repo())
            .env("SOURCE_DATE_EPOCH", "1795651200")
            .args(args)
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Asserts that `outside` holds only what the scene put there.
    fn assert_outside_untouched(&self, what: &str) {
        let found = files_under(&self.outside());
        assert_eq!(
            found,
            [PathBuf::from("keep.txt")],
            "{what}: written outside the repository"
        );
        assert_eq!(
            std::fs::read_to_string(self.outside().join("keep.txt")).unwrap(),
            "untouched",
            "{what}"
        );
    }
}

/// Every file and link under `dir`, relative, links not followed.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    crate::robust::tree(dir)
        .into_iter()
        .filter(|p| !std::fs::symlink_metadata(dir.join(p)).is_ok_and(|m| m.is_dir()))
        .collect()
}

/// Our temporary files (`.k8s-advisor-XXXXXX`) anywhere under `dir`.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".k8s-advisor-"))
        })
        .collect()
}

fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

fn record_name(repo: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(repo.join("docs/adr"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .collect();
    names.sort();
    names.pop().unwrap()
}

#[test]
fn a_symbolic_link_at_any_component_is_refused_and_nothing_leaves_the_repository() {
    // Each case plants one link, then runs `generate` with the given arguments. Links lead
    // outside the repository or to a folder inside it: either way they are never written
    // through.
    type Plant = fn(&Scene, &Path);
    let cases: &[(&str, &[&str], Plant)] = &[
        (
            "an intermediate folder of --out",
            &["generate", "--out", "deploy/k8s"],
            |s, to| {
                symlink(to, &s.repo().join("deploy"));
            },
        ),
        ("the output folder", &["generate"], |s, to| {
            std::fs::remove_dir_all(s.repo().join("k8s")).unwrap();
            symlink(to, &s.repo().join("k8s"));
        }),
        ("a namespace folder", &["generate"], |s, to| {
            std::fs::remove_dir_all(s.repo().join("k8s/shop")).unwrap();
            symlink(to, &s.repo().join("k8s/shop"));
        }),
        ("a manifest", &["generate"], |s, to| {
            std::fs::remove_file(s.repo().join("k8s/shop/web.yaml")).unwrap();
            std::fs::write(to.join("web.yaml"), "").unwrap();
            symlink(&to.join("web.yaml"), &s.repo().join("k8s/shop/web.yaml"));
        }),
        ("the root kustomization", &["generate"], |s, to| {
            std::fs::remove_file(s.repo().join("k8s/kustomization.yaml")).unwrap();
            std::fs::write(to.join("kustomization.yaml"), "").unwrap();
            symlink(
                &to.join("kustomization.yaml"),
                &s.repo().join("k8s/kustomization.yaml"),
            );
        }),
        ("docs, with no docs/adr yet", &["record"], |s, to| {
            std::fs::remove_dir_all(s.repo().join("docs")).unwrap();
            symlink(to, &s.repo().join("docs"));
        }),
        (
            "docs, above an existing docs/adr",
            &["generate"],
            |s, to| {
                std::fs::rename(s.repo().join("docs"), to.join("docs")).unwrap();
                symlink(&to.join("docs"), &s.repo().join("docs"));
            },
        ),
        ("the record folder", &["generate"], |s, to| {
            std::fs::remove_dir_all(s.repo().join("docs/adr")).unwrap();
            symlink(to, &s.repo().join("docs/adr"));
        }),
        ("the record", &["record"], |s, to| {
            s.set(1, true);
            let record = s.repo().join("docs/adr").join(record_name(&s.repo()));
            std::fs::copy(&record, to.join("record.md")).unwrap();
            std::fs::remove_file(&record).unwrap();
            symlink(&to.join("record.md"), &record);
        }),
        ("a folder `.adr-dir` names", &["record"], |s, to| {
            std::fs::write(s.repo().join(".adr-dir"), "decisions/adr\n").unwrap();
            symlink(to, &s.repo().join("decisions"));
        }),
    ];
    for (what, args, plant) in cases {
        for inside in [false, true] {
            let scene = Scene::new();
            assert_eq!(scene.run(&["generate"]).0, Some(0), "{what}: setup");
            // The link's target: the outside folder, or a folder inside the repository that
            // is not part of the layout.
            let to = if inside {
                let folder = scene.repo().join("elsewhere");
                std::fs::create_dir_all(&folder).unwrap();
                folder
            } else {
                scene.outside()
            };
            let before = files_under(&to);
            let snapshot: Vec<Vec<u8>> = before
                .iter()
                .map(|p| std::fs::read(to.join(p)).unwrap_or_default())
                .collect();
            plant(&scene, &to);
            let planted = files_under(&to);
            let (code, stderr) = scene.run(args);
            assert_eq!(code, Some(2), "{what} (inside: {inside}): {stderr}");
            assert!(
                stderr.contains("symbolic link") || stderr.contains("outside"),
                "{what} (inside: {inside}): {stderr}"
            );
            assert_eq!(
                files_under(&to),
                planted,
                "{what} (inside: {inside}): written through the link"
            );
            for (path, bytes) in before.iter().zip(&snapshot) {
                if let Ok(now) = std::fs::read(to.join(path)) {
                    assert_eq!(&now, bytes, "{what}: {} changed", path.display());
                }
            }
        }
    }
}

/// Swaps the folder `target` for a link to `to` for about a millisecond, again and again,
/// until `stop`: the moves a concurrent writer can make.
fn swapper(target: PathBuf, to: PathBuf, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u32> {
    std::thread::spawn(move || {
        let away = target.with_extension("away");
        let mut swaps = 0;
        while !stop.load(Ordering::Relaxed) {
            if std::fs::rename(&target, &away).is_err() {
                std::thread::sleep(Duration::from_micros(200));
                continue;
            }
            let linked = std::os::unix::fs::symlink(&to, &target).is_ok();
            swaps += u32::from(linked);
            std::thread::sleep(Duration::from_millis(1));
            if linked {
                let _ = std::fs::remove_file(&target);
            }
            if std::fs::rename(&away, &target).is_err() {
                // `generate` created the folder anew meanwhile: the old one goes.
                let _ = std::fs::remove_dir_all(&away);
            }
            std::thread::sleep(Duration::from_micros(300));
        }
        swaps
    })
}

#[test]
fn folders_swapped_for_links_during_generate_never_send_a_write_outside() {
    for target in ["k8s/shop", "docs/adr", "docs"] {
        let scene = Scene::new();
        assert_eq!(scene.run(&["generate"]).0, Some(0));
        let stop = Arc::new(AtomicBool::new(false));
        let swaps = swapper(
            scene.repo().join(target),
            scene.outside(),
            Arc::clone(&stop),
        );
        let mut outcomes = [0u32; 3];
        for round in 1..=40 {
            // Every run has files to write: every stub and the record change.
            scene.set(round, true);
            let (code, stderr) = scene.run(&["generate"]);
            match code {
                Some(code @ 0..=2) => outcomes[code as usize] += 1,
                other => panic!("{target}, round {round}: exit {other:?}\n{stderr}"),
            }
            assert!(!stderr.contains("panicked"), "{stderr}");
            scene.assert_outside_untouched(&format!("{target}, round {round}"));
        }
        stop.store(true, Ordering::Relaxed);
        let swaps = swaps.join().unwrap();
        assert!(
            swaps > 10,
            "{target}: the swapper swapped only {swaps} times"
        );
        // Left alone again, the next run finishes the job and leaves nothing behind.
        scene.set(99, true);
        let (code, stderr) = scene.run(&["generate"]);
        assert_eq!(code, Some(0), "{target}: {stderr}");
        assert_eq!(scene.run(&["generate", "--check"]).0, Some(0), "{target}");
        assert_eq!(
            temporaries(&scene.repo()),
            Vec::<PathBuf>::new(),
            "{target}"
        );
        scene.assert_outside_untouched(target);
        eprintln!("{target}: {swaps} swaps; runs by exit code 0/1/2: {outcomes:?}");
    }
}

/// A small deterministic generator (xorshift), so that a failing round can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

#[test]
fn a_supersede_killed_at_any_point_is_repaired_by_the_next_run() {
    let exe = assert_cmd::cargo::cargo_bin("k8s-advisor");
    let spawn = |repo: &Path, command: &str| {
        Command::new(&exe)
            .arg(command)
            .current_dir(repo)
            .env("SOURCE_DATE_EPOCH", "1795651200")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // How long one superseding run takes here, so that the kills spread over all of it.
    let scene = Scene::new();
    assert_eq!(scene.run(&["generate"]).0, Some(0));
    scene.set(0, false);
    let started = Instant::now();
    assert!(spawn(&scene.repo(), "generate").wait().unwrap().success());
    let span = started.elapsed().as_micros() as u64 * 5 / 4;

    let seed = 0x5eed_2701;
    let mut rng = Rng(seed);
    let mut half_done = 0;
    for round in 0..30 {
        let command = if round % 2 == 0 { "generate" } else { "record" };
        let scene = Scene::new();
        assert_eq!(scene.run(&["generate"]).0, Some(0));
        scene.set(0, false);
        let mut child = spawn(&scene.repo(), command);
        std::thread::sleep(Duration::from_micros(rng.below(span)));
        let _ = child.kill();
        let _ = child.wait();
        let adr = scene.repo().join("docs/adr");
        let first = adr.join("0001-run-shop-on-kubernetes.md");
        let written = std::fs::read_dir(&adr)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".md")
            })
            .count();
        if written > 1
            && std::fs::read_to_string(&first)
                .unwrap()
                .contains("status: proposed")
        {
            half_done += 1;
        }
        // The next run, of either command, completes the change.
        let (code, stderr) = scene.run(&[command]);
        let context = format!("seed {seed:#x}, round {round} ({command})");
        assert_eq!(code, Some(0), "{context}: {stderr}");
        let (code, stderr) = scene.run(&["generate"]);
        assert_eq!(code, Some(0), "{context}: {stderr}");
        let mut records: Vec<String> = std::fs::read_dir(&adr)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        records.sort();
        assert_eq!(
            records,
            [
                "0001-run-shop-on-kubernetes.md",
                "0002-run-shop-on-a-simpler-platform-than-kubernetes.md"
            ],
            "{context}"
        );
        let old = std::fs::read_to_string(&first).unwrap();
        assert!(
            old.contains("status: superseded by ADR-0002"),
            "{context}: {old}"
        );
        let new = std::fs::read_to_string(adr.join(&records[1])).unwrap();
        assert!(new.contains("Supersedes [ADR 0001]"), "{context}");
        assert!(new.contains("status: proposed"), "{context}");
        let (code, stderr) = scene.run(&["generate", "--check"]);
        assert_eq!(code, Some(0), "{context}: {stderr}");
        assert_eq!(
            temporaries(&scene.repo()),
            Vec::<PathBuf>::new(),
            "{context}"
        );
    }
    eprintln!("{half_done} of 30 kills left the new record beside an unmarked old one");
}
