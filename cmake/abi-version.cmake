# The one place the shared library's ABI version is set.
#
# libtool rules, applied at every release that changes the library:
#  - code changed, interface unchanged:        REVISION += 1
#  - interfaces added (new symbol version node): CURRENT += 1, REVISION = 0, AGE += 1
#  - interfaces removed or changed:            CURRENT += 1, REVISION = 0, AGE = 0
#    (this bumps the SONAME: a new major, HELIOSREPL_2.0 node)
# SONAME major = CURRENT - AGE; file version = (CURRENT-AGE).AGE.REVISION.
set(HR_LT_CURRENT 1)
set(HR_LT_REVISION 0)
set(HR_LT_AGE 0)

math(EXPR HR_SOVERSION "${HR_LT_CURRENT} - ${HR_LT_AGE}")
set(HR_LIB_VERSION "${HR_SOVERSION}.${HR_LT_AGE}.${HR_LT_REVISION}")
