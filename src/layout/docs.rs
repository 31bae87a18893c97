//! Write stage: where the architecture overview goes and what it replaces. Reads the overview's
//! folder, never writes: the result joins the layout's plan, so the pages are checked and
//! written with the manifests and the record, all or nothing.
//!
//! Pages keep the same protection as the manifests: a page someone edited since we wrote it,
//! or a file of someone else at one of our paths, is not replaced without `--force`; a page of
//! ours that the model no longer produces (a removed domain, a model that shrank back to one
//! page) is removed, and its folder with it once empty. Other files are never touched.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::{Area, Kind, Leftover, Plan, Removal, Write};
use crate::architecture::{self, Page};
use crate::diagnostic::Error;
use crate::files::{self, Entry, Folder, Place};
use crate::generate::stamp::{Origin, without_cr};
use crate::text::shown;

/// The largest page read: far above any page we write, so a link to `/dev/zero` or a huge
/// file at one of our paths is refused instead of read into memory.
const MAX_PAGE_BYTES: u64 = 64 << 20;

/// The index file `path` names, checked: a Markdown file name (`.md`) in a folder. Returns the
/// folder and the file name.
pub fn split_index(path: &Path) -> Result<(PathBuf, String), Error> {
    let bad = || {
        Error::usage(
            format!("--docs {} does not name a Markdown file", shown(path)),
            "name the overview's file, such as docs/architecture.md",
        )
    };
    let name = match path.components().next_back() {
        Some(Component::Normal(name)) => name.to_str().ok_or_else(bad)?.to_string(),
        _ => return Err(bad()),
    };
    let stem = name.strip_suffix(".md").ok_or_else(bad)?;
    if stem.is_empty() || stem.starts_with('.') {
        return Err(bad());
    }
    let folder = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    Ok((folder, name))
}

/// Adds the overview's `pages` (from [`architecture::render`]) to `plan`. `index` is the path of
/// the index file; `root` the folder of the workspace file, below which no folder on the way
/// may be a symbolic link.
pub fn plan(
    plan: &mut Plan,
    root: &Path,
    index: &Path,
    project: &str,
    pages: Vec<Page>,
) -> Result<(), Error> {
    let (folder_path, index_name) = split_index(index)?;
    let place = Place::new(&folder_path, root)?;
    let shown_folder = place.shown().to_path_buf();
    let folder = place.open(Path::new(""))?;
    let stem = index_name.trim_end_matches(".md").to_string();
    // What is there: the folder's entries and those of the pages' folder.
    let mut listing: BTreeMap<PathBuf, Entry> = BTreeMap::new();
    let mut pages_folder: Option<Folder> = None;
    if let Some(folder) = &folder {
        for (name, entry) in folder.list()? {
            listing.insert(PathBuf::from(&name), entry);
        }
        match listing.get(Path::new(&stem)) {
            Some(Entry::Link) => return Err(files::link_error(&shown_folder.join(&stem))),
            Some(Entry::Folder) => {
                if let Some(sub) = folder.child(stem.as_ref())? {
                    for (name, entry) in sub.list()? {
                        listing.insert(Path::new(&stem).join(name), entry);
                    }
                    pages_folder = Some(sub);
                }
            }
            Some(Entry::File | Entry::Special) if pages.len() > 1 => {
                return Err(files::not_a_folder(&shown_folder.join(&stem)));
            }
            _ => {}
        }
    }
    let read = |rel: &Path| -> Result<Option<Vec<u8>>, Error> {
        let path = shown_folder.join(rel);
        let (holder, name) = match rel.parent() {
            Some(p) if !p.as_os_str().is_empty() => (pages_folder.as_ref(), rel.file_name()),
            _ => (folder.as_ref(), rel.file_name()),
        };
        let (Some(holder), Some(name)) = (holder, name) else {
            return Ok(None);
        };
        holder
            .read(name, false, MAX_PAGE_BYTES)
            .map_err(|why| why.into_error(&path, "a page of the architecture overview"))
    };
    for (rel, entry) in &listing {
        if *entry == Entry::File && files::is_temporary(rel) {
            plan.leftovers.push(Leftover {
                path: shown_folder.join(rel),
                rel: rel.clone(),
                area: Area::Docs,
            });
        }
    }
    let ours: std::collections::BTreeSet<PathBuf> = pages.iter().map(|p| p.rel.clone()).collect();
    for page in pages {
        let target = shown_folder.join(&page.rel);
        plan.docs.push(target.clone());
        let current = match listing.get(&page.rel) {
            Some(Entry::Link) => return Err(files::link_error(&target)),
            Some(Entry::File) => read(&page.rel)?,
            _ => None,
        };
        let old = match current {
            None => None,
            Some(bytes) if bytes == page.contents.as_bytes() => continue,
            Some(bytes) if without_cr(&bytes) == page.contents.as_bytes() => continue,
            Some(bytes) => {
                match architecture::origin(&bytes, project) {
                    Origin::Intact => {}
                    Origin::OtherProject(owner) => plan.others.push((target.clone(), owner)),
                    Origin::Edited | Origin::Foreign => {
                        plan.edited.push((target.clone(), Kind::Docs))
                    }
                }
                Some(String::from_utf8_lossy(&bytes).into_owned())
            }
        };
        plan.writes.push(Write {
            path: target,
            rel: page.rel,
            old,
            new: page.contents.into_bytes(),
            kind: Kind::Docs,
        });
    }
    // Pages of ours that the model no longer produces: only in the pages' folder, only
    // Markdown files that carry our marker for this project.
    for (rel, entry) in &listing {
        let in_pages = rel.parent().is_some_and(|p| p == Path::new(&stem));
        let markdown = rel.extension().is_some_and(|e| e == "md");
        if *entry != Entry::File || !in_pages || !markdown || ours.contains(rel) {
            continue;
        }
        let Some(bytes) = read(rel)? else {
            continue;
        };
        match architecture::origin(&bytes, project) {
            Origin::Foreign | Origin::OtherProject(_) => {}
            origin => {
                let target = shown_folder.join(rel);
                if origin == Origin::Edited {
                    plan.edited.push((target.clone(), Kind::Docs));
                }
                plan.removals.push(Removal {
                    path: target,
                    rel: rel.clone(),
                    area: Area::Docs,
                    old: String::from_utf8_lossy(&bytes).into_owned(),
                });
            }
        }
    }
    plan.docs.sort();
    plan.edited.sort();
    plan.others.sort();
    plan.docs_place = Some(place);
    Ok(())
}
