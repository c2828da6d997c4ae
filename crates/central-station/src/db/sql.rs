//! What the station's SQL reads and writes, the same on both databases:
//! [`Value`]s bound to `?N` parameters, [`Row`]s of values read back, and
//! the conversions between them and Rust types.
//!
//! The names follow rusqlite's (`params!`, `query_row`, `optional`) so the
//! store code reads as it did on SQLite alone; what differs is that every
//! row is owned, so a PostgreSQL row and a SQLite row are the same thing to
//! the code that reads them.

use super::DbError;

/// One SQL value. Integers are 64-bit on both databases (the PostgreSQL
/// schema declares every integer column `BIGINT`); booleans are their own
/// kind because PostgreSQL has a boolean type and SQLite stores 0 and 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer.
    Integer(i64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
    /// A boolean.
    Bool(bool),
}

impl Value {
    /// What kind of value this is, for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Null => "NULL",
            Self::Integer(_) => "an integer",
            Self::Text(_) => "text",
            Self::Blob(_) => "bytes",
            Self::Bool(_) => "a boolean",
        }
    }
}

/// A Rust value that can be bound to a parameter.
pub trait ToValue {
    /// The value to bind.
    fn to_value(&self) -> Value;
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}

impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}

impl<const N: usize> ToValue for [u8; N] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}

macro_rules! integers_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Integer(i64::from(*self))
            }
        }
    )*};
}
integers_to_value!(i64, i32, i16, i8, u32, u16, u8);

/// A Rust value that can be read from a column.
pub trait FromValue: Sized {
    /// Converts, or says what was found instead.
    fn from_value(value: &Value) -> Result<Self, &'static str>;
}

impl FromValue for Value {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        Ok(value.clone())
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Text(text) => Ok(text.clone()),
            other => Err(other.kind()),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Blob(bytes) => Ok(bytes.clone()),
            other => Err(other.kind()),
        }
    }
}

impl<const N: usize> FromValue for [u8; N] {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Blob(bytes) => bytes
                .as_slice()
                .try_into()
                .map_err(|_| "bytes of another length"),
            other => Err(other.kind()),
        }
    }
}

/// SQLite answers a comparison or `EXISTS` with 0 or 1, PostgreSQL with a
/// boolean: both read as `bool`.
impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Bool(b) => Ok(*b),
            Value::Integer(i) => Ok(*i != 0),
            other => Err(other.kind()),
        }
    }
}

macro_rules! integers_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: &Value) -> Result<Self, &'static str> {
                match value {
                    Value::Integer(i) => <$t>::try_from(*i).map_err(|_| "an integer out of range"),
                    Value::Bool(b) => Ok(<$t>::from(*b)),
                    other => Err(other.kind()),
                }
            }
        }
    )*};
}
integers_from_value!(i64, i32, i16, u64, u32, u16, u8, usize);

/// One row of a result, owned.
#[derive(Debug, Clone)]
pub struct Row {
    values: Vec<Value>,
}

impl Row {
    pub(crate) fn new(values: Vec<Value>) -> Self {
        Self { values }
    }

    /// The value of column `index` (from 0) as a `T`.
    pub fn get<I: ColumnIndex, T: FromValue>(&self, index: I) -> Result<T, DbError> {
        let index = index.index();
        let value = self.values.get(index).ok_or(DbError::Column {
            index,
            problem: "no such column",
        })?;
        T::from_value(value).map_err(|found| DbError::Column {
            index,
            problem: found,
        })
    }
}

/// How a column is named in [`Row::get`]: by position only, which is what
/// both databases agree on.
pub trait ColumnIndex {
    /// The position, from 0.
    fn index(self) -> usize;
}

impl ColumnIndex for usize {
    fn index(self) -> usize {
        self
    }
}

/// The parameters of one statement.
pub trait Params {
    /// The values, in parameter order (`?1` first).
    fn into_values(self) -> Vec<Value>;
}

impl Params for &[&dyn ToValue] {
    fn into_values(self) -> Vec<Value> {
        self.iter().map(|v| v.to_value()).collect()
    }
}

impl Params for Vec<Value> {
    fn into_values(self) -> Vec<Value> {
        self
    }
}

impl Params for [&dyn ToValue; 0] {
    fn into_values(self) -> Vec<Value> {
        Vec::new()
    }
}

macro_rules! arrays_are_params {
    ($($n:literal),*) => {$(
        impl<T: ToValue> Params for [T; $n] {
            fn into_values(self) -> Vec<Value> {
                self.iter().map(ToValue::to_value).collect()
            }
        }
    )*};
}
arrays_are_params!(1, 2, 3, 4, 5, 6, 7, 8);

/// Parameters from an iterator, for statements built at run time.
#[derive(Debug)]
pub struct ParamsFromIter<I>(I);

/// Binds the items of `iter` as `?1`, `?2`, …
pub fn params_from_iter<I>(iter: I) -> ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToValue,
{
    ParamsFromIter(iter)
}

impl<I> Params for ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToValue,
{
    fn into_values(self) -> Vec<Value> {
        self.0.into_iter().map(|v| v.to_value()).collect()
    }
}

/// The parameters of a statement, each anything [`ToValue`]:
/// `params![device_id, now, &hash[..]]`.
#[macro_export]
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::db::ToValue]
    };
    ($($value:expr),+ $(,)?) => {
        &[$(&$value as &dyn $crate::db::ToValue),+] as &[&dyn $crate::db::ToValue]
    };
}

/// The first row's `read`, or [`DbError::NoRows`] (see
/// [`OptionalExtension`]).
pub(crate) fn first_row<T>(
    rows: &[Row],
    read: impl FnOnce(&Row) -> Result<T, DbError>,
) -> Result<T, DbError> {
    rows.first().map_or(Err(DbError::NoRows), read)
}

/// `Ok(None)` for a query that found no row, as rusqlite's extension of the
/// same name.
pub trait OptionalExtension<T> {
    /// The row's value, `None` when there was no row.
    fn optional(self) -> Result<Option<T>, DbError>;
}

impl<T> OptionalExtension<T> for Result<T, DbError> {
    fn optional(self) -> Result<Option<T>, DbError> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(DbError::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Rewrites `?N` (and a bare `?`) into PostgreSQL's `$N`, leaving quoted
/// text and identifiers alone, so one statement text serves both databases.
pub(crate) fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut next_bare = 1;
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                out.push(c);
            }
            '?' => {
                out.push('$');
                if chars.peek().is_some_and(char::is_ascii_digit) {
                    while let Some(d) = chars.next_if(char::is_ascii_digit) {
                        out.push(d);
                    }
                } else {
                    out.push_str(&next_bare.to_string());
                    next_bare += 1;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// A number no earlier call in this process returned, for naming test
/// databases.
#[cfg(test)]
pub(crate) fn unique_suffix() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes_only() {
        assert_eq!(
            numbered_placeholders("SELECT a FROM t WHERE b = ?12 AND c = '?1' AND \"?\" = ?"),
            "SELECT a FROM t WHERE b = $12 AND c = '?1' AND \"?\" = $1"
        );
        assert_eq!(
            numbered_placeholders("x = 'it''s ?' OR y = ?2"),
            "x = 'it''s ?' OR y = $2"
        );
    }

    #[test]
    fn values_convert_both_ways_and_say_what_they_found() {
        let row = Row::new(vec![
            Value::Integer(7),
            Value::Bool(true),
            Value::Integer(0),
            Value::Null,
            Value::Text("x".into()),
            Value::Integer(-1),
        ]);
        assert_eq!(row.get::<_, u32>(0).expect("u32"), 7);
        assert!(row.get::<_, bool>(1).expect("bool"));
        assert!(!row.get::<_, bool>(2).expect("int as bool"));
        assert_eq!(row.get::<_, Option<String>>(3).expect("null"), None);
        assert_eq!(row.get::<_, String>(4).expect("text"), "x");
        assert!(matches!(
            row.get::<_, u64>(5),
            Err(DbError::Column {
                index: 5,
                problem: "an integer out of range"
            })
        ));
        assert!(matches!(
            row.get::<_, String>(0),
            Err(DbError::Column {
                index: 0,
                problem: "an integer"
            })
        ));
        assert!(matches!(row.get::<_, i64>(9), Err(DbError::Column { .. })));
        let bound = params![7_u32, "a", Some(true), None::<i64>, &[1_u8, 2][..]].into_values();
        assert_eq!(
            bound,
            vec![
                Value::Integer(7),
                Value::Text("a".into()),
                Value::Bool(true),
                Value::Null,
                Value::Blob(vec![1, 2])
            ]
        );
    }

    #[test]
    fn no_row_is_none_and_other_errors_stay() {
        assert_eq!(
            Err::<i64, _>(DbError::NoRows).optional().expect("none"),
            None
        );
        assert!(Err::<i64, _>(DbError::Closed).optional().is_err());
    }
}
