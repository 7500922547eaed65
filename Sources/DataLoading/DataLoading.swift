import CZlib
// Placeholder until the module lands.
let _placeholderZ = zlibVersion
