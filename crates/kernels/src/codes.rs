//! Enums whose discriminants cross the C ABI as `u32` codes. Each is written once, with its
//! codes, through [`code_enum!`], which derives `from_code` from the same list. TypeScript's
//! table of the same codes (`ts/runtime/codes.ts`) is checked against these enums by
//! `test/kernels.test.ts`.

/// Declares a `#[repr(u32)]` enum and its `from_code(u32) -> Option<Self>` from one list.
#[macro_export]
macro_rules! code_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq)]
        #[repr(u32)]
        pub enum $name {
            $($(#[$vmeta])* $variant = $code,)+
        }

        impl $name {
            /// The variant with this code, if any.
            pub fn from_code(code: u32) -> Option<$name> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}
