// placeholder so the module's object library is never empty
