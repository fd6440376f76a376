//! A bounded pre-scan of protobuf bytes, run before prost decodes them.
//!
//! prost allocates one element per occurrence of a repeated field, and an empty element can
//! cost two bytes of input but hundreds of bytes of memory. Counting occurrences first, without
//! allocating, caps that amplification: a message with too many elements is rejected before any
//! of them is built.

use super::DecodeError;

/// Protobuf wire types.
const VARINT: u64 = 0;
const FIXED64: u64 = 1;
const LEN: u64 = 2;
const FIXED32: u64 = 5;

fn read_varint(buf: &mut &[u8]) -> Result<u64, DecodeError> {
    let mut value = 0u64;
    for shift in (0..70).step_by(7) {
        let (&byte, rest) = buf
            .split_first()
            .ok_or(DecodeError::Malformed("truncated varint"))?;
        *buf = rest;
        if shift == 63 && byte > 1 {
            return Err(DecodeError::Malformed("varint overflows 64 bits"));
        }
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(DecodeError::Malformed("varint too long"))
}

fn take<'a>(buf: &mut &'a [u8], len: u64) -> Result<&'a [u8], DecodeError> {
    let len = usize::try_from(len).map_err(|_| DecodeError::Malformed("length overflows"))?;
    if len > buf.len() {
        return Err(DecodeError::Malformed("truncated field"));
    }
    let (head, rest) = buf.split_at(len);
    *buf = rest;
    Ok(head)
}

/// Calls `visit` with the payload of every length-delimited occurrence of `field` at the top
/// level of `buf`, and fails with [`DecodeError::TooMany`] once more than `max` occur. Other
/// fields are skipped; malformed framing is an error.
pub fn for_each_field<'a>(
    mut buf: &'a [u8],
    field: u32,
    max: usize,
    what: &'static str,
    mut visit: impl FnMut(&'a [u8]) -> Result<(), DecodeError>,
) -> Result<usize, DecodeError> {
    let mut count = 0usize;
    while !buf.is_empty() {
        let key = read_varint(&mut buf)?;
        let (number, wire_type) = (key >> 3, key & 7);
        match wire_type {
            VARINT => {
                read_varint(&mut buf)?;
            }
            FIXED64 => {
                take(&mut buf, 8)?;
            }
            FIXED32 => {
                take(&mut buf, 4)?;
            }
            LEN => {
                let len = read_varint(&mut buf)?;
                let payload = take(&mut buf, len)?;
                if number == u64::from(field) {
                    count += 1;
                    if count > max {
                        return Err(DecodeError::TooMany { what, max });
                    }
                    visit(payload)?;
                }
            }
            _ => return Err(DecodeError::Malformed("unsupported wire type")),
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_caps_a_repeated_field() {
        // field 2, LEN, 0 bytes; three times; plus a varint field 1.
        let buf = [0x08, 0x05, 0x12, 0x00, 0x12, 0x00, 0x12, 0x00];
        assert_eq!(for_each_field(&buf, 2, 3, "x", |_| Ok(())), Ok(3));
        assert_eq!(
            for_each_field(&buf, 2, 2, "x", |_| Ok(())),
            Err(DecodeError::TooMany { what: "x", max: 2 })
        );
    }

    #[test]
    fn rejects_bad_framing() {
        assert!(for_each_field(&[0x12, 0x05, 0x00], 2, 9, "x", |_| Ok(())).is_err());
        assert!(for_each_field(&[0x08], 2, 9, "x", |_| Ok(())).is_err());
        assert!(for_each_field(&[0x0b], 2, 9, "x", |_| Ok(())).is_err());
        assert!(
            for_each_field(
                &[
                    0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f
                ],
                2,
                9,
                "x",
                |_| Ok(())
            )
            .is_err()
        );
    }
}
