//! Named choices: parameters whose value is one of a fixed set of names (an optimizer, an
//! ensemble, an initialisation, a terrain), as Rust enums instead of strings, so every match
//! on them is checked by the compiler and no `_ =>` arm can swallow a new name.

/// An enum whose variants are named in parameter files and CSV columns.
pub trait Choice: Copy + PartialEq + std::str::FromStr + 'static {
    /// Every variant, in the order messages list them.
    const ALL: &'static [Self];
    /// The variant's name, as written in parameter files and CSV columns.
    fn name(self) -> &'static str;
}

/// Declares a [`Choice`] enum: each variant with its name.
///
/// ```
/// stuck::choice! {
///     /// How a coin lands.
///     pub enum Side { Heads = "heads", Tails = "tails" }
/// }
/// use stuck::choice::Choice;
/// assert_eq!("tails".parse::<Side>(), Ok(Side::Tails));
/// assert_eq!(Side::Heads.name(), "heads");
/// assert!("edge".parse::<Side>().is_err());
/// ```
#[macro_export]
macro_rules! choice {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$variant_meta:meta])* $variant:ident = $text:literal),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl $crate::choice::Choice for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(text: &str) -> Result<Self, String> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(text.to_string()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::choice::Choice::name(*self))
            }
        }
    };
}
