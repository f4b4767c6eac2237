//! Applicants' photos: a row may name a JPEG or PNG file, relative to its
//! spreadsheet. The file must be a real image; it is copied into the home
//! under a name made from its content, so re-importing it changes nothing.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::why::{Why, why};

#[derive(Debug, Clone, PartialEq)]
pub struct Photo {
    pub source: PathBuf,
    /// `photos/<this>` in the home: the content hash and the format's extension.
    pub stored_name: String,
    pub width: u32,
    pub height: u32,
}

/// Checks that `name` (relative to `base_dir`) is a readable JPEG or PNG.
pub fn check(base_dir: &Path, name: &str) -> Result<Photo, Why> {
    let source = base_dir.join(name);
    let bytes = std::fs::read(&source).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => why!(
            "фото {name:?} не знайдено (шукали {}); покладіть файл поруч з таблицею або виправте назву",
            "photo {name:?} not found (looked for {}); put the file next to the spreadsheet or fix the name",
            source.display()
        ),
        _ => why!("фото {name:?} неможливо прочитати: {e}", "photo {name:?} cannot be read: {e}"),
    })?;
    let format = image::guess_format(&bytes).ok();
    let ext = match format {
        Some(image::ImageFormat::Jpeg) => "jpg",
        Some(image::ImageFormat::Png) => "png",
        _ => {
            return Err(why!(
                "фото {name:?} — не зображення JPEG чи PNG; очікується файл фотографії",
                "photo {name:?} is not a JPEG or PNG image; expected a photo file"
            ));
        }
    };
    let img = image::load_from_memory(&bytes).map_err(|e| {
        why!(
            "фото {name:?} пошкоджене, його неможливо розкодувати ({e})",
            "photo {name:?} is damaged and cannot be decoded ({e})"
        )
    })?;
    let hash = Sha256::digest(&bytes);
    let hex: String = hash.iter().take(16).map(|b| format!("{b:02x}")).collect();
    Ok(Photo {
        source,
        stored_name: format!("{hex}.{ext}"),
        width: img.width(),
        height: img.height(),
    })
}

/// Copies the photo into `photos_dir` unless an identical one is there.
pub fn store(photo: &Photo, photos_dir: &Path) -> std::io::Result<()> {
    let dest = photos_dir.join(&photo.stored_name);
    if dest.exists() {
        return Ok(());
    }
    let tmp = photos_dir.join(format!(".{}.tmp", photo.stored_name));
    std::fs::copy(&photo.source, &tmp)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, &dest)
}
