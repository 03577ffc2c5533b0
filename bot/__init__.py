"""newsbot's Discord side: thin glue over `index/` (parse, defer, call the engine off the loop, render)."""
