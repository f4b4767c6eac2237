//! Applicants' photos: a row may name a JPEG or PNG file, relative to its
//! spreadsheet. The spreadsheet is untrusted, so the name may reach only
//! regular files inside the spreadsheet's folder: a relative path of plain
//! names (no `..`, nothing absolute), opened one name at a time below the
//! folder without following a link (`openat` with `O_NOFOLLOW`), never
//! blocking (`O_NONBLOCK`: a FIFO cannot hang the import), checked to be a
//! regular file on the opened handle, read up to `MAX_BYTES`, its pixel
//! size read from the header before anything is decoded. Every name that
//! fails these gets the same words, so the rejects file never tells whether
//! something exists elsewhere. The file is copied into the home under a name
//! made from its content, so re-importing it changes nothing.

use std::ffi::CString;
use std::fs::File;
use std::io::{Cursor, Read};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::cells::{quoted, quoted_uk};
use super::why::{Why, why};

/// The largest photo file read, in bytes (a card photo is tens of kilobytes;
/// a camera's full-size JPEG a few megabytes).
pub const MAX_BYTES: u64 = 20 << 20;

/// The longest side of a photo, in pixels, checked from the file's header
/// before decoding (a 48-megapixel camera's picture is 8,000 wide).
pub const MAX_SIDE: u32 = 8000;

/// The most memory the decoder may take for one photo.
const MAX_DECODE_BYTES: u64 = 512 << 20;

#[derive(Debug, Clone, PartialEq)]
pub struct Photo {
    /// The spreadsheet's folder joined with the name, for messages.
    pub source: PathBuf,
    /// The spreadsheet's folder.
    pub base_dir: PathBuf,
    /// The name as written, relative to `base_dir`.
    pub name: String,
    /// `photos/<this>` in the home: the content hash and the format's extension.
    pub stored_name: String,
    pub width: u32,
    pub height: u32,
}

/// The one reason for every name that does not reach a regular file inside
/// the folder: absolute, `..`, a link, a device, a FIFO, a folder, missing.
fn not_in_folder(name: &str) -> Why {
    let (uk, en) = (quoted_uk(name), quoted(name));
    Why {
        uk: format!(
            "фото {uk} не знайдено в теці таблиці; очікується відносний шлях до файлу JPEG чи PNG у теці таблиці або її підтеці (без «..» і без посилань); покладіть файл поруч з таблицею або виправте назву"
        ),
        en: format!(
            "photo {en} not found in the spreadsheet's folder; expected a relative path to a JPEG or PNG file in that folder or a folder inside it (no `..`, no links); put the file next to the spreadsheet or fix the name"
        ),
    }
}

/// The plain names of `name`'s path (split at `/`, and at `\` as Windows
/// writes paths), or `None` when it is absolute, empty or steps out (`..`).
fn plain_names(name: &str) -> Option<Vec<CString>> {
    if name.starts_with(['/', '\\']) {
        return None;
    }
    let mut names = Vec::new();
    for part in name.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return None,
            n => names.push(CString::new(n).ok()?),
        }
    }
    (!names.is_empty()).then_some(names)
}

/// `openat(dir, name, flags)` as a `File`.
fn open_at(dir: &File, name: &CString, flags: libc::c_int) -> Option<File> {
    // SAFETY: a valid directory descriptor and a NUL-terminated name; the
    // returned descriptor is owned by the File.
    let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags | libc::O_CLOEXEC) };
    // SAFETY: `fd` is a new descriptor nothing else owns.
    (fd >= 0).then(|| unsafe { File::from_raw_fd(fd) })
}

/// Whether `name` in `dir` is a regular file, asked without opening it (a
/// device is never opened) and without following a link.
fn is_regular_at(dir: &File, name: &CString) -> bool {
    // SAFETY: a plain stat into zeroed memory of the right type.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let rc = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    rc == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFREG
}

/// Opens the regular file `name` names inside `base_dir`, or `None`; see
/// the module's text.
fn open_inside(base_dir: &Path, name: &str) -> Option<File> {
    let names = plain_names(name)?;
    let base = if base_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base_dir
    };
    let mut dir = File::open(base).ok()?;
    let (last, folders) = names.split_last()?;
    for folder in folders {
        dir = open_at(
            &dir,
            folder,
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
        )?;
    }
    if !is_regular_at(&dir, last) {
        return None;
    }
    let file = open_at(
        &dir,
        last,
        libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY,
    )?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    // Opened one plain name at a time without links, the file is inside the
    // folder; its resolved path says so too.
    let mut path = base.to_path_buf();
    for n in &names {
        path.push(std::ffi::OsStr::from_bytes(n.as_bytes()));
    }
    let inside = std::fs::canonicalize(path)
        .ok()?
        .starts_with(std::fs::canonicalize(base).ok()?);
    inside.then_some(file)
}

/// The bytes of the photo `name` names, bounded by `MAX_BYTES`.
fn read_photo(base_dir: &Path, name: &str) -> Result<Vec<u8>, Why> {
    let file = open_inside(base_dir, name).ok_or_else(|| not_in_folder(name))?;
    let too_big = |len: u64| {
        let shown = quoted(name);
        let mb = len.div_ceil(1 << 20);
        let max = MAX_BYTES >> 20;
        why!(
            "фото {shown} має {mb} МБ; щонайбільше {max} МБ; збережіть його меншим",
            "photo {shown} is {mb} MB; at most {max} MB; save it smaller"
        )
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len > MAX_BYTES {
        return Err(too_big(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            let shown = quoted(name);
            why!(
                "фото {shown} неможливо прочитати: {e}",
                "photo {shown} cannot be read: {e}"
            )
        })?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The stored name of a photo's bytes: a content hash and the extension.
fn stored_name(bytes: &[u8], ext: &str) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{hex}.{ext}")
}

/// Checks that `name` (relative to `base_dir`) is a readable JPEG or PNG
/// inside `base_dir`, of at most `MAX_SIDE` pixels a side.
pub fn check(base_dir: &Path, name: &str) -> Result<Photo, Why> {
    let bytes = read_photo(base_dir, name)?;
    let shown = quoted(name);
    let (format, ext) = match image::guess_format(&bytes).ok() {
        Some(f @ image::ImageFormat::Jpeg) => (f, "jpg"),
        Some(f @ image::ImageFormat::Png) => (f, "png"),
        _ => {
            return Err(why!(
                "фото {shown} — не зображення JPEG чи PNG; очікується файл фотографії",
                "photo {shown} is not a JPEG or PNG image; expected a photo file"
            ));
        }
    };
    let damaged = |e: image::ImageError| {
        why!(
            "фото {shown} пошкоджене, його неможливо розкодувати ({e})",
            "photo {shown} is damaged and cannot be decoded ({e})"
        )
    };
    let (w, h) = image::ImageReader::with_format(Cursor::new(&bytes), format)
        .into_dimensions()
        .map_err(damaged)?;
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(why!(
            "фото {shown} має {w}×{h} пікселів; щонайбільше {MAX_SIDE}×{MAX_SIDE}; зменште його",
            "the photo {shown} is {w}×{h} pixels; at most {MAX_SIDE}×{MAX_SIDE}; scale it down"
        ));
    }
    let mut reader = image::ImageReader::with_format(Cursor::new(&bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let img = reader.decode().map_err(damaged)?;
    Ok(Photo {
        source: base_dir.join(name),
        base_dir: base_dir.to_path_buf(),
        name: name.to_string(),
        stored_name: stored_name(&bytes, ext),
        width: img.width(),
        height: img.height(),
    })
}

/// Copies the photo into `photos_dir` unless an identical one is there. The
/// file is opened again the same guarded way, and must still be the bytes
/// that were checked.
pub fn store(photo: &Photo, photos_dir: &Path) -> std::io::Result<()> {
    let dest = photos_dir.join(&photo.stored_name);
    if dest.exists() {
        return Ok(());
    }
    let bytes =
        read_photo(&photo.base_dir, &photo.name).map_err(|why| std::io::Error::other(why.en))?;
    let ext = photo.stored_name.rsplit('.').next().unwrap_or("");
    if stored_name(&bytes, ext) != photo.stored_name {
        return Err(std::io::Error::other(
            "the photo file changed while it was being imported; import again",
        ));
    }
    crate::private::write(&dest, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_names_are_taken() {
        assert_eq!(plain_names("photos/a.jpg"), plain_names("photos\\a.jpg"));
        assert_eq!(plain_names("./a.jpg").unwrap().len(), 1);
        for bad in [
            "/etc/shadow",
            "\\etc\\shadow",
            "../a.jpg",
            "photos/../../a.jpg",
            "photos\\..\\..\\a.jpg",
            "",
            ".",
            "a\0b",
        ] {
            assert!(plain_names(bad).is_none(), "{bad:?}");
        }
    }
}
