import CHDF5
// Placeholder until the module lands.
let _placeholderFloat = chdf5_native_float
