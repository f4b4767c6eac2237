//! `proof.pdf`: every card's front and back at true CR80 size (85.60 ×
//! 53.98 mm, one page each), for the clerk to check before printing (P7).
//! Front: the city's arms, the front picture, the title and the number.
//! Back: the photo, the full name, the category, the last valid day and
//! the barcode. Text is DejaVu Sans, embedded, with a Unicode map so the
//! Cyrillic renders and can be searched and copied.

use std::collections::BTreeMap;

use miniz_oxide::deflate::compress_to_vec_zlib;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::barcode;
use super::photo::{self, PHOTO_MM};
use crate::cards::CardNumber;

/// CR80 (ISO/IEC 7810 ID-1), millimetres.
pub const CARD_MM: (f32, f32) = (85.60, 53.98);
/// Points per millimetre.
const PT: f32 = 72.0 / 25.4;

/// Where the front's images go, millimetres: (x, y, width, height) from
/// the bottom-left corner.
const PICTURE_BOX: (f32, f32, f32, f32) = (30.0, 12.0, 55.6, 41.98);
const ARMS_BOX: (f32, f32, f32, f32) = (3.0, 21.0, 24.0, 29.0);
const PHOTO_AT: (f32, f32) = (3.0, CARD_MM.1 - 3.0 - PHOTO_MM.1);

/// An image ready for the PDF.
pub struct PdfImage {
    data: Vec<u8>,
    filter: Filter,
    width: u32,
    height: u32,
    alpha: Option<Vec<u8>>,
}

impl PdfImage {
    /// A JPEG we made (RGB, baseline): passed through as is.
    pub fn jpeg(data: Vec<u8>, width: u32, height: u32) -> PdfImage {
        PdfImage {
            data,
            filter: Filter::DctDecode,
            width,
            height,
            alpha: None,
        }
    }

    /// Any image, with its transparency, fitted inside `box_mm` at 300 dpi.
    pub fn fitted(bytes: &[u8], box_mm: (f32, f32)) -> Result<PdfImage, String> {
        let img = image::load_from_memory(bytes).map_err(|e| format!("cannot decode it ({e})"))?;
        let max = |mm: f32| (mm / 25.4 * 300.0).round() as u32;
        let img = img.resize(
            max(box_mm.0),
            max(box_mm.1),
            image::imageops::FilterType::CatmullRom,
        );
        let rgba = img.to_rgba8();
        let rgb: Vec<u8> = rgba.pixels().flat_map(|p| [p[0], p[1], p[2]]).collect();
        let alpha: Vec<u8> = rgba.pixels().map(|p| p[3]).collect();
        Ok(PdfImage {
            data: compress_to_vec_zlib(&rgb, 6),
            filter: Filter::FlateDecode,
            width: rgba.width(),
            height: rgba.height(),
            alpha: alpha
                .iter()
                .any(|a| *a < 255)
                .then(|| compress_to_vec_zlib(&alpha, 6)),
        })
    }

    /// A picture cropped to fill `box_mm` exactly, at 300 dpi.
    pub fn filling(bytes: &[u8], box_mm: (f32, f32)) -> Result<PdfImage, String> {
        let img = image::load_from_memory(bytes).map_err(|e| format!("cannot decode it ({e})"))?;
        let px = |mm: f32| (mm / 25.4 * 300.0).round() as u32;
        let size = (px(box_mm.0), px(box_mm.1));
        let rgb = photo::fit(img.into_rgb8(), size);
        let data = photo::jpeg(&rgb, 88)?;
        Ok(PdfImage::jpeg(data, size.0, size.1))
    }
}

/// The front's fixed parts.
pub struct Design {
    pub arms: PdfImage,
    pub picture: PdfImage,
    pub title: String,
    pub city: String,
}

impl Design {
    pub fn arms_box() -> (f32, f32) {
        (ARMS_BOX.2, ARMS_BOX.3)
    }
    pub fn picture_box() -> (f32, f32) {
        (PICTURE_BOX.2, PICTURE_BOX.3)
    }
}

/// One card's variable parts.
pub struct ProofCard<'a> {
    pub number: CardNumber,
    pub surname: &'a str,
    pub given_names: String,
    pub category: &'a str,
    pub community: &'a str,
    /// "Дійсна до 31.12.2030", ready to print.
    pub valid_to: String,
    /// The card photo (from `photo::card_photo`).
    pub photo: &'a [u8],
}

/// The embedded font and the glyphs the pages used.
struct Font {
    face: ttf_parser::Face<'static>,
    data: &'static [u8],
    used: BTreeMap<u16, char>,
}

impl Font {
    fn new() -> Font {
        let data = dejavu::sans::regular();
        Font {
            face: ttf_parser::Face::parse(data, 0).expect("DejaVu Sans parses"),
            data,
            used: BTreeMap::new(),
        }
    }

    fn units(&self) -> f32 {
        f32::from(self.face.units_per_em())
    }

    fn glyph(&self, c: char) -> u16 {
        self.face.glyph_index(c).map_or(0, |g| g.0)
    }

    fn advance(&self, gid: u16) -> f32 {
        f32::from(
            self.face
                .glyph_hor_advance(ttf_parser::GlyphId(gid))
                .unwrap_or(0),
        )
    }

    /// Width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advance(self.glyph(c)))
            .sum::<f32>()
            / self.units()
            * size
    }

    /// The two-byte glyph codes of `text` (Identity-H), noting the glyphs.
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let g = self.glyph(c);
            self.used.entry(g).or_insert(c);
            out.extend_from_slice(&g.to_be_bytes());
        }
        out
    }

    /// The largest size up to `max` at which `text` fits `width_mm`.
    fn fit(&self, text: &str, max: f32, width_mm: f32) -> f32 {
        let w = self.width(text, max);
        if w <= width_mm * PT {
            max
        } else {
            (max * width_mm * PT / w).max(3.0)
        }
    }
}

const FONT: Name = Name(b"F1");

fn text(content: &mut Content, font: &mut Font, s: &str, size: f32, x_mm: f32, y_mm: f32) {
    let glyphs = font.encode(s);
    content
        .begin_text()
        .set_font(FONT, size)
        .next_line(x_mm * PT, y_mm * PT)
        .show(Str(&glyphs))
        .end_text();
}

fn image(content: &mut Content, name: Name, x: f32, y: f32, w: f32, h: f32) {
    content
        .save_state()
        .transform([w * PT, 0.0, 0.0, h * PT, x * PT, y * PT])
        .x_object(name)
        .restore_state();
}

/// Draws `img` inside a box, keeping its aspect, centred.
fn image_in_box(content: &mut Content, name: Name, img: &PdfImage, b: (f32, f32, f32, f32)) {
    let scale = (b.2 / img.width as f32).min(b.3 / img.height as f32);
    let (w, h) = (img.width as f32 * scale, img.height as f32 * scale);
    image(
        content,
        name,
        b.0 + (b.2 - w) / 2.0,
        b.1 + (b.3 - h) / 2.0,
        w,
        h,
    );
}

fn front(font: &mut Font, design: &Design, card: &ProofCard) -> Vec<u8> {
    let mut c = Content::new();
    image(
        &mut c,
        Name(b"Pic"),
        PICTURE_BOX.0,
        PICTURE_BOX.1,
        PICTURE_BOX.2,
        PICTURE_BOX.3,
    );
    image_in_box(&mut c, Name(b"Arms"), &design.arms, ARMS_BOX);
    // A band in the city's colours under the picture.
    c.set_fill_rgb(0.0, 0.34, 0.72)
        .rect(0.0, 11.2 * PT, CARD_MM.0 * PT, 0.8 * PT)
        .fill_nonzero();
    c.set_fill_rgb(1.0, 0.84, 0.0)
        .rect(0.0, 10.4 * PT, CARD_MM.0 * PT, 0.8 * PT)
        .fill_nonzero();
    c.set_fill_gray(0.0);
    let size = font.fit(&design.title, 7.0, 25.0);
    text(&mut c, font, &design.title, size, 3.0, 17.0);
    let size = font.fit(&design.city, 6.0, 25.0);
    text(&mut c, font, &design.city, size, 3.0, 13.2);
    let number = card.number.grouped();
    let size = font.fit(&number, 16.0, 70.0);
    text(&mut c, font, &number, size, 3.0, 3.6);
    c.finish().into_vec()
}

fn back(font: &mut Font, card: &ProofCard) -> Vec<u8> {
    let mut c = Content::new();
    image(
        &mut c,
        Name(b"Photo"),
        PHOTO_AT.0,
        PHOTO_AT.1,
        PHOTO_MM.0,
        PHOTO_MM.1,
    );
    let x = PHOTO_AT.0 + PHOTO_MM.0 + 3.0;
    let width = CARD_MM.0 - x - 3.0;
    c.set_fill_gray(0.0);
    let lines: [(&str, f32, f32); 5] = [
        (card.surname, 10.0, 46.5),
        (&card.given_names, 7.5, 42.0),
        (card.category, 6.0, 36.5),
        (card.community, 5.5, 33.0),
        (&card.valid_to, 6.5, 28.5),
    ];
    for (s, max, y) in lines {
        let size = font.fit(s, max, width);
        text(&mut c, font, s, size, x, y);
    }
    // The barcode as bars of whole modules, exactly as the PNG prints it.
    let (bw, bh) = barcode::size_mm(card.number);
    let bx = CARD_MM.0 - 3.0 - bw;
    let by = 6.0;
    let module = barcode::MODULE_DOTS as f32 * 25.4 / 300.0;
    for (i, dark) in barcode::modules(card.number).iter().enumerate() {
        if *dark == 1 {
            let mx = bx + (barcode::QUIET_MODULES as f32 + i as f32) * module;
            c.rect(mx * PT, by * PT, module * PT, bh * PT);
        }
    }
    c.fill_nonzero();
    let digits = card.number.grouped();
    let size = 6.0;
    let w = font.width(&digits, size) / PT;
    text(&mut c, font, &digits, size, bx + (bw - w) / 2.0, by - 2.6);
    c.finish().into_vec()
}

fn write_image(pdf: &mut Pdf, id: Ref, mask: Ref, img: &PdfImage) {
    let mut x = pdf.image_xobject(id, &img.data);
    x.filter(img.filter);
    x.width(img.width as i32);
    x.height(img.height as i32);
    x.color_space().device_rgb();
    x.bits_per_component(8);
    if img.alpha.is_some() {
        x.s_mask(mask);
    }
    x.finish();
    if let Some(alpha) = &img.alpha {
        let mut m = pdf.image_xobject(mask, alpha);
        m.filter(Filter::FlateDecode);
        m.width(img.width as i32);
        m.height(img.height as i32);
        m.color_space().device_gray();
        m.bits_per_component(8);
    }
}

/// The whole proof: two pages (front, back) per card, in order.
pub fn write(design: &Design, cards: &[ProofCard], title: &str) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let mut next = 0;
    let mut alloc = || {
        next += 1;
        Ref::new(next)
    };
    let catalog = alloc();
    let tree = alloc();
    let info = alloc();
    let type0 = alloc();
    let cid = alloc();
    let descriptor = alloc();
    let file = alloc();
    let cmap = alloc();
    let (arms, arms_mask, picture, picture_mask) = (alloc(), alloc(), alloc(), alloc());
    let mut font = Font::new();
    let media = Rect::new(0.0, 0.0, CARD_MM.0 * PT, CARD_MM.1 * PT);
    let mut pages = Vec::with_capacity(cards.len() * 2);
    for card in cards {
        let (photo, front_page, front_content, back_page, back_content) =
            (alloc(), alloc(), alloc(), alloc(), alloc());
        let mut x = pdf.image_xobject(photo, card.photo);
        x.filter(Filter::DctDecode);
        x.width(photo::PHOTO_PX.0 as i32);
        x.height(photo::PHOTO_PX.1 as i32);
        x.color_space().device_rgb();
        x.bits_per_component(8);
        x.finish();
        let f = front(&mut font, design, card);
        pdf.stream(front_content, &f);
        let b = back(&mut font, card);
        pdf.stream(back_content, &b);
        for (page, content, side) in [(front_page, front_content, 0), (back_page, back_content, 1)]
        {
            let mut p = pdf.page(page);
            p.media_box(media).parent(tree).contents(content);
            let mut res = p.resources();
            res.fonts().pair(FONT, type0);
            let mut x = res.x_objects();
            if side == 0 {
                x.pair(Name(b"Pic"), picture).pair(Name(b"Arms"), arms);
            } else {
                x.pair(Name(b"Photo"), photo);
            }
            x.finish();
            res.finish();
            p.finish();
            pages.push(page);
        }
    }
    write_image(&mut pdf, arms, arms_mask, &design.arms);
    write_image(&mut pdf, picture, picture_mask, &design.picture);
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(pages.iter().copied())
        .count(pages.len() as i32);
    pdf.document_info(info)
        .title(TextStr(title))
        .producer(TextStr(concat!("kartka ", env!("CARGO_PKG_VERSION"))));
    write_font(&mut pdf, &font, type0, cid, descriptor, file, cmap);
    pdf.finish()
}

fn write_font(
    pdf: &mut Pdf,
    font: &Font,
    type0: Ref,
    cid: Ref,
    descriptor: Ref,
    file: Ref,
    cmap: Ref,
) {
    let name = Name(b"DejaVuSans");
    let scale = 1000.0 / font.units();
    pdf.type0_font(type0)
        .base_font(name)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(cmap);
    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    let mut c = pdf.cid_font(cid);
    c.subtype(CidFontType::Type2)
        .base_font(name)
        .system_info(system)
        .font_descriptor(descriptor)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    let mut widths = c.widths();
    for &gid in font.used.keys() {
        widths.consecutive(gid, [font.advance(gid) * scale]);
    }
    widths.finish();
    c.finish();
    let bbox = font.face.global_bounding_box();
    pdf.font_descriptor(descriptor)
        .name(name)
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            f32::from(bbox.x_min) * scale,
            f32::from(bbox.y_min) * scale,
            f32::from(bbox.x_max) * scale,
            f32::from(bbox.y_max) * scale,
        ))
        .italic_angle(0.0)
        .ascent(f32::from(font.face.ascender()) * scale)
        .descent(f32::from(font.face.descender()) * scale)
        .cap_height(f32::from(font.face.capital_height().unwrap_or(font.face.ascender())) * scale)
        .stem_v(80.0)
        .font_file2(file);
    let compressed = compress_to_vec_zlib(font.data, 6);
    pdf.stream(file, &compressed)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), font.data.len() as i32);
    let map = to_unicode(&font.used);
    pdf.cmap(cmap, &map)
        .name(Name(b"Adobe-Identity-UCS"))
        .system_info(SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"UCS"),
            supplement: 0,
        });
}

/// The ToUnicode map (PDF 32000 9.10.3): glyph → character, so the text can
/// be searched, copied and read back. Written in the plainest form the
/// specification allows, which every reader accepts.
fn to_unicode(used: &BTreeMap<u16, char>) -> Vec<u8> {
    let mut s = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let pairs: Vec<(&u16, &char)> = used.iter().collect();
    // At most 100 entries a section.
    for chunk in pairs.chunks(100) {
        s.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for (gid, c) in chunk {
            let mut utf16 = [0u16; 2];
            let hex: String = c
                .encode_utf16(&mut utf16)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            s.push_str(&format!("<{gid:04X}> <{hex}>\n"));
        }
        s.push_str("endbfchar\n");
    }
    s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    s.into_bytes()
}
